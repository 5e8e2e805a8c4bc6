import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
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

/**
 * The OS's range for the local ports of outgoing connections. A port handed out from it can be taken by any
 * client socket between the moment it is picked and the moment its server binds it, so servers started later
 * (a role, a broker after a restart) are given ports below it.
 */
async function readEphemeralRange(): Promise<[number, number]> {
  const text = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => '');
  const [low, high] = text.trim().split(/\s+/).map(Number);
  return low && high && low < high ? [low, high] : [49152, 65535];
}

let ephemeralRange: Promise<[number, number]> | undefined;

const FIRST_SERVER_PORT = 10_000;
const handedOut = new Set<number>();

/**
 * A port free right now, outside the range outgoing connections draw from and never one this process gave
 * out before, so only another program choosing at random in the same instant can take it before it is bound.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  ephemeralRange ??= readEphemeralRange();
  const [low, high] = await ephemeralRange;
  const [from, to] = low - FIRST_SERVER_PORT >= 1000 ? [FIRST_SERVER_PORT, low - 1] : [high + 1, 65535];
  for (let attempt = 0; attempt < 50 && to > from; attempt++) {
    const candidate = from + Math.floor(Math.random() * (to - from + 1));
    if (handedOut.has(candidate)) continue;
    const port = await tryListen(host, candidate);
    if (port !== undefined) return remember(port);
  }
  const port = await tryListen(host, 0);
  if (port === undefined) throw new Error(`no free port on ${host}`);
  return remember(port);
}

function remember(port: number): number {
  handedOut.add(port);
  return port;
}
