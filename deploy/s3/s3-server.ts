import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../ports.ts';

export interface S3ServerHandle {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export interface StartS3ServerOptions {
  cacheDir: string;
  dataDir: string;
  port?: number;
  log?: (line: string) => void;
}

const MODULE = 'github.com/versity/versitygw';
export const VERSITYGW_VERSION = 'v1.8.0';
const REGION = 'us-east-1';
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
const LOCK_WAIT_MS = 20 * 60_000;
const KEPT_LINES = 40;
const SETPRIV = '/usr/bin/setpriv';

type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** Builds versitygw into `${cacheDir}/bin` unless a binary of the pinned version is already there. */
export async function ensureS3ServerBinary(cacheDir: string): Promise<string> {
  const binDir = join(cacheDir, 'bin');
  const binary = join(binDir, 'versitygw');
  if (await hasPinnedVersion(binary)) return binary;
  await mkdir(binDir, { recursive: true });
  const lockPath = join(binDir, '.versitygw.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  while (!(await tryLock(lockPath))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for another versitygw build (${lockPath})`);
    await sleep(500);
  }
  try {
    // Another caller may have finished the build while we waited for the lock.
    if (!(await hasPinnedVersion(binary))) await buildInto(binDir, binary);
  } finally {
    await rm(lockPath, { force: true });
  }
  return binary;
}

async function hasPinnedVersion(binary: string): Promise<boolean> {
  if (!existsSync(binary)) return false;
  const result = await run(binary, ['--version']).catch(() => undefined);
  // The version is stamped at build time, so a binary left by an older pin gets rebuilt.
  const stamped = result?.exit.code === 0 ? /^Version\s*:\s*(\S+)/m.exec(result.output)?.[1] : undefined;
  return stamped === VERSITYGW_VERSION;
}

async function tryLock(lockPath: string): Promise<boolean> {
  try {
    const fh = await open(lockPath, 'wx');
    await fh.writeFile(String(process.pid));
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // A builder that crashed leaves its lock behind; reclaim it once its pid is gone.
  const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
  const age = Date.now() - ((await stat(lockPath).catch(() => undefined))?.mtimeMs ?? Date.now());
  if ((owner > 0 && !isAlive(owner)) || (!owner && age > 10_000)) await rm(lockPath, { force: true });
  return false;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function buildInto(binDir: string, binary: string): Promise<void> {
  // Holding the lock means any build dir present was left by a builder that crashed.
  for (const name of await readdir(binDir)) {
    if (name.startsWith('.build-')) await rm(join(binDir, name), { recursive: true, force: true });
  }
  // A private GOBIN plus rename means a reader never sees a half-written binary.
  const gobin = await mkdtemp(join(binDir, '.build-'));
  try {
    const go = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
    // `env` adds GOBIN while the caller's whole environment (PATH, HOME, GOPROXY, proxies) passes through.
    const { exit, output } = await run('env', [
      `GOBIN=${gobin}`,
      go,
      'install',
      `-ldflags=-X main.Version=${VERSITYGW_VERSION}`,
      `${MODULE}/cmd/versitygw@${VERSITYGW_VERSION}`,
    ]);
    if (exit.code !== 0) {
      throw new Error(`go install versitygw@${VERSITYGW_VERSION} failed (exit ${exit.code}):\n${output}`);
    }
    await rename(join(gobin, 'versitygw'), binary);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
}

function run(command: string, args: string[]): Promise<{ exit: Exit; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ exit: { code, signal }, output: Buffer.concat(chunks).toString('utf8') }),
    );
  });
}

export async function startS3Server(opts: StartS3ServerOptions): Promise<S3ServerHandle> {
  const binary = await ensureS3ServerBinary(opts.cacheDir);
  await mkdir(opts.dataDir, { recursive: true });
  const accessKeyId = `MG${randomBytes(9).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64url');
  // A port picked by us can be taken before versitygw binds it, so retry with a fresh one.
  const attempts = opts.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = opts.port ?? (await freePort());
    try {
      return await launch(binary, port, accessKeyId, secretAccessKey, opts);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function launch(
  binary: string,
  port: number,
  accessKeyId: string,
  secretAccessKey: string,
  opts: StartS3ServerOptions,
): Promise<S3ServerHandle> {
  const endpoint = `http://127.0.0.1:${port}`;
  // A path unique to this launch, so a stray server already on the port cannot pass for ours. It starts
  // with '_', which no bucket name may, so it never shadows a bucket.
  const healthUrl = `${endpoint}/_health-${randomBytes(6).toString('hex')}`;
  const args = ['--port', `127.0.0.1:${port}`, '--access', accessKeyId, '--secret', secretAccessKey];
  args.push('--region', REGION, '--health', new URL(healthUrl).pathname, 'posix', opts.dataDir);
  // A caller killed outright never runs its 'exit' handlers; the parent-death signal still takes the server
  // down with it. setpriv execs, so the pid we signal in stop() is the server's own.
  const [command, argv] = existsSync(SETPRIV)
    ? [SETPRIV, ['--pdeathsig', 'KILL', '--', binary, ...args]]
    : [binary, args];
  // An empty environment keeps a developer's VGW_* / ROOT_* variables from changing the server's behaviour.
  const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: {} });
  const recent: string[] = [];
  const onLine = (line: string) => {
    recent.push(line);
    if (recent.length > KEPT_LINES) recent.shift();
    opts.log?.(line);
  };
  createInterface({ input: child.stdout }).on('line', onLine);
  createInterface({ input: child.stderr }).on('line', onLine);
  // 'close' rather than 'exit', so the last output lines are in by the time it fires.
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const spawnError = new Promise<Error>((resolve) => child.on('error', resolve));
  // A test run that dies without calling stop() must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await terminate(child, exited);
  };

  const polling = new AbortController();
  const failure = await Promise.race([
    waitReady(healthUrl, polling.signal).then(
      () => undefined,
      (err: Error) => err,
    ),
    exited.then((e) => new Error(`versitygw exited early (code ${e.code}, signal ${e.signal})`)),
    spawnError,
  ]);
  polling.abort();
  if (failure) {
    await stop();
    throw new Error(`${failure.message}; last output:\n${recent.join('\n')}`);
  }
  return { endpoint, region: REGION, accessKeyId, secretAccessKey, stop };
}

async function waitReady(healthUrl: string, stopped: AbortSignal): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline && !stopped.aborted) {
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(1_000) });
      await res.body?.cancel();
      if (res.ok) return;
    } catch {
      // Connection refused until the listener is up.
    }
    await sleep(50);
  }
  throw new Error(`versitygw did not answer ${healthUrl} within ${READY_TIMEOUT_MS} ms`);
}

async function terminate(child: ChildProcess, exited: Promise<Exit>): Promise<void> {
  // No pid means it never spawned, so no exit event will come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  // Unref'd so a prompt exit does not leave the caller's event loop waiting out the grace period.
  const grace = sleep(STOP_GRACE_MS, false, { ref: false });
  const graceful = await Promise.race([exited.then(() => true), grace]);
  if (!graceful) {
    child.kill('SIGKILL');
    await exited;
  }
}
