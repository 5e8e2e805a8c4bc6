import type { Logger } from '../logger.ts';
import type { TracingSettings } from './settings.ts';

export interface Tracing {
  /** Sends the spans still queued, then stops. */
  release(): Promise<void>;
}

type Installed = Awaited<ReturnType<typeof import('./provider.ts').installProvider>>;

/**
 * One tracer provider per process. Roles that share a process (`mediagate dev`) share it, the first role
 * naming the service; the last release flushes and uninstalls it. Module state on purpose: it stands for
 * the process, as the OpenTelemetry globals do. Without settings the SDK is not even loaded, and every
 * span the code asks for is the API's no-op span.
 */
let installed: Promise<Installed> | undefined;
let active = false;
let users = 0;

export async function acquireTracing(
  settings: TracingSettings | undefined,
  role: string,
  logger: Logger,
): Promise<Tracing> {
  if (!settings) return { release: async () => {} };
  users++;
  installed ??= import('./provider.ts').then(({ installProvider }) => installProvider(settings, role));
  const provider = await installed;
  active = true;
  logger.info(
    { endpoint: settings.endpoint, protocol: settings.protocol, sampler: settings.sampler },
    'tracing to OTLP',
  );
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      if (--users > 0) return;
      installed = undefined;
      active = false;
      await provider.uninstall().catch((error: unknown) => logger.warn({ err: error }, 'span export failed'));
    },
  };
}

/** True while spans are recorded: code that would only feed spans skips its work otherwise. */
export function tracingActive(): boolean {
  return active;
}
