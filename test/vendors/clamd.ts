import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../deploy/ports.ts';

/**
 * The 68-byte EICAR test file: every scanner flags it, and it is harmless. Built from two halves so this
 * source file is not itself flagged by a scanner on a developer's machine.
 */
export const eicar = Buffer.from(
  ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR', '-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join(''),
  'latin1',
);

export interface Clamd {
  host: string;
  port: number;
  /** How long clamd took from spawn to its first PONG, for the suite's own reports. */
  startupMs: number;
  stop(): Promise<void>;
}

export interface StartClamdOptions {
  /** clamd's StreamMaxLength, e.g. '10M'. */
  streamMaxLength?: string;
  timeoutMs?: number;
}

const candidates = ['/usr/sbin/clamd', '/usr/bin/clamd', '/usr/local/sbin/clamd'];

/**
 * Starts a real clamd on loopback with a one-signature database (EICAR), because official signatures
 * cannot be downloaded here and a tiny database starts in about a second instead of a minute. Installs
 * clamav-daemon first when clamd is missing and we are root, so a fresh CI machine works.
 */
export async function startClamd(options: StartClamdOptions = {}): Promise<Clamd> {
  const binary = await findOrInstallClamd();
  const dir = await mkdtemp(join(tmpdir(), 'mediagate-clamd-'));
  const port = await freePort();
  // An .ndb body signature: name:target type (0 = any file):offset:hex.
  await writeFile(join(dir, 'mediagate-test.ndb'), `Eicar-Test-Signature:0:*:${eicar.toString('hex')}\n`);
  const conf = join(dir, 'clamd.conf');
  await writeFile(
    conf,
    [
      `DatabaseDirectory ${dir}`,
      'TCPAddr 127.0.0.1',
      `TCPSocket ${port}`,
      'Foreground yes',
      `StreamMaxLength ${options.streamMaxLength ?? '10M'}`,
      'LogTime no',
      'Bytecode no',
      '',
    ].join('\n'),
  );

  const started = Date.now();
  const child = spawn(binary, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => output.push(chunk.toString('utf8'));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const stop = async () => {
    await kill(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForPong(port, child, output, options.timeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { host: '127.0.0.1', port, startupMs: Date.now() - started, stop };
}

async function findOrInstallClamd(): Promise<string> {
  const found = await findClamd();
  if (found) return found;
  if (process.getuid?.() !== 0)
    throw new Error('clamd is missing: install clamav-daemon (apt-get install clamav-daemon)');
  const started = Date.now();
  // A fresh machine may have empty package lists; update only when the first attempt cannot find it.
  if ((await run('apt-get', ['install', '-y', '-q', 'clamav-daemon'])) !== 0) {
    await run('apt-get', ['update', '-q']);
    const code = await run('apt-get', ['install', '-y', '-q', 'clamav-daemon']);
    if (code !== 0) throw new Error(`apt-get install clamav-daemon exited with ${code}`);
  }
  const installed = await findClamd();
  if (!installed) throw new Error('clamav-daemon installed but no clamd binary found');
  console.error(`installed clamav-daemon in ${Date.now() - started} ms`);
  return installed;
}

async function findClamd(): Promise<string | undefined> {
  for (const path of candidates) {
    try {
      await access(path);
      return path;
    } catch {}
  }
  return undefined;
}

function run(command: string, args: string[]): Promise<number | null> {
  const child = spawn(command, args, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
}

async function waitForPong(
  port: number,
  child: ChildProcess,
  output: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`clamd exited with ${child.exitCode}:\n${output.join('')}`);
    if (await pong(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`clamd did not answer PING within ${timeoutMs} ms:\n${output.join('')}`);
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.end('zPING\0'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
    });
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(reply.startsWith('PONG')));
  });
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
