import type { Config } from '../platform/config.ts';

/**
 * The one line a command prints when it fails: what went wrong and, for the usual start-up mistakes, which
 * setting to change. Never empty: some failures carry no message (an AggregateError from a refused
 * connection, a rejected promise with no reason), and "undefined" tells a user nothing.
 */
export function startFailure(error: unknown, config?: Config): string {
  const { code, port } = (error ?? {}) as { code?: unknown; port?: unknown };
  if (code === 'EADDRINUSE' && typeof port === 'number') {
    const settings = {
      API_PORT: config?.apiPort,
      EDGE_PORT: config?.edgePort,
      METRICS_PORT: config?.metricsPort,
    };
    const setting = Object.entries(settings).find(([, value]) => value === port)?.[0];
    const what = setting ? `${setting} is ${port}` : `port ${port}`;
    return `port ${port} is already in use (${what}): stop what holds it, or set ${setting ?? 'the port'} to a free port`;
  }
  return describe(error);
}

function describe(error: unknown): string {
  if (error instanceof AggregateError && !error.message) {
    const inner = [...new Set(error.errors.map(describe))];
    return inner.join('; ') || 'failed';
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (error.message) return error.message;
    return typeof code === 'string' ? `${error.name}: ${code}` : `${error.name} (no message)`;
  }
  if (error === undefined || error === null || error === '') return 'failed, and gave no reason';
  return String(error);
}
