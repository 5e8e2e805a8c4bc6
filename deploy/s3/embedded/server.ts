import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sweepIncompleteUploads } from './lifecycle.ts';
import { Multipart } from './multipart.ts';
import { createRouter } from './router.ts';
import { Store } from './store.ts';

/**
 * An in-process, S3-compatible server for `mediagate dev`: path-style addressing, SigV4 (header and
 * presigned), objects streamed to and from files under `dataDir`.
 */

export interface EmbeddedS3Options {
  dataDir: string;
  /** Defaults to 127.0.0.1. */
  host?: string;
  /** 0 (the default) picks any free port. */
  port?: number;
  accessKeyId: string;
  secretAccessKey: string;
  /** The only region requests may be signed for; defaults to us-east-1. */
  region?: string;
  /** How often lifecycle rules abort stale multipart uploads; defaults to hourly. */
  sweepIntervalMs?: number;
  /** Failures that are the server's own fault (500s, failed sweeps); defaults to console.error. */
  onError?: (error: unknown) => void;
}

export interface EmbeddedS3 {
  /** Base URL for clients, e.g. `http://127.0.0.1:43210`; use with path-style addressing. */
  endpoint: string;
  /** Runs the lifecycle sweep now, as of `now`; resolves to the number of uploads aborted. */
  sweepLifecycle(now?: Date): Promise<number>;
  stop(): Promise<void>;
}

function endpointHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startEmbeddedS3(options: EmbeddedS3Options): Promise<EmbeddedS3> {
  const host = options.host ?? '127.0.0.1';
  const onError = options.onError ?? ((error: unknown) => console.error('embedded S3:', error));
  const store = new Store(options.dataDir);
  await store.init();
  const multipart = new Multipart(store);
  const identity = {
    accessKeyId: options.accessKeyId,
    secretAccessKey: options.secretAccessKey,
    region: options.region ?? 'us-east-1',
  };
  // Large parts from slow mobile links must not hit Node's default five-minute request timeout.
  const server = createServer({ requestTimeout: 0 }, createRouter({ store, multipart, identity, onError }));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  const sweepLifecycle = (now = new Date()) => sweepIncompleteUploads(store, multipart, now.getTime());
  const timer = setInterval(() => sweepLifecycle().catch(onError), options.sweepIntervalMs ?? 3_600_000);
  timer.unref();

  return {
    endpoint: `http://${endpointHost(host)}:${port}`,
    sweepLifecycle,
    stop: async () => {
      clearInterval(timer);
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      server.closeAllConnections();
      await closed;
    },
  };
}
