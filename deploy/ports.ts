import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';

/**
 * A port someone else holds. Its message is the one line a user sees, so it names the port, the setting
 * that chose it and what to do.
 */
export class PortInUseError extends Error {
  readonly port: number;
  constructor(port: number, what: string, setting: string) {
    super(`port ${port} (${what}) is already in use: stop what holds it, or set ${setting} to a free port`);
    this.name = 'PortInUseError';
    this.port = port;
  }
}

/** Binds and releases host:port; resolves to the bound port, or undefined when it is taken. */
async function tryListen(host: string, port: number): Promise<number | undefined> {
  const server = createServer();
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch {
    return undefined;
  }
  const bound = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return bound;
}

export async function portIsFree(host: string, port: number): Promise<boolean> {
  return (await tryListen(host, port)) !== undefined;
}

export async function assertPortFree(host: string, port: number, what: string, setting: string) {
  if (port !== 0 && !(await portIsFree(host, port))) throw new PortInUseError(port, what, setting);
}

/** A port the OS reports free right now (another program may still take it before it is used). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const port = await tryListen(host, 0);
  if (port === undefined) throw new Error(`no free port on ${host}`);
  return port;
}
