// A local PostgreSQL from the npm binaries, for running the roles by hand; `--help` lists the options.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres } from './embedded-postgres.ts';

const usage = `usage: npm run postgres -- [--data-dir DIR] [--port PORT] [--database NAME]
  --data-dir DIR    cluster data; kept across restarts (default ./.mediagate/ops/postgres, apart from dev's)
  --port PORT       listens on 127.0.0.1:PORT (default 5432)
  --database NAME   created if missing (default mediagate)`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

let values: { 'data-dir': string; port: string; database: string; help: boolean };
try {
  ({ values } = parseArgs({
    options: {
      'data-dir': { type: 'string', default: resolve('.mediagate', 'ops', 'postgres') },
      port: { type: 'string', default: '5432' },
      database: { type: 'string', default: 'mediagate' },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535)
  fail(`--port must be a TCP port, got ${values.port}`);

const dataDir = resolve(values['data-dir']);
const postgres = await startEmbeddedPostgres({
  dataDir,
  port,
  database: values.database,
  portSetting: '--port',
}).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error), 1));
console.log(`PostgreSQL serving (data in ${dataDir})`);
console.log(`DATABASE_URL=${postgres.url}`);

let stopping = false;
const shutdown = async (signal: NodeJS.Signals) => {
  if (stopping) process.exit(1);
  stopping = true;
  console.error(`${signal}: stopping PostgreSQL`);
  await postgres.stop();
  process.exit(0);
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
