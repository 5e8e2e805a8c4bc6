import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { pino } from 'pino';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import { freePort } from '../../test/ports.ts';
import { runBusContract } from './bus.contract.ts';
import { createEmbeddedBus } from './embedded-bus.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
let dir: string | undefined;
let postgres: PostgresHandle | undefined;
let databaseUrl = process.env.DATABASE_URL;

before(async () => {
  if (databaseUrl) return;
  dir = await mkdtemp(join(tmpdir(), 'mediagate-embedded-bus-'));
  // PostgreSQL runs as a separate `postgres` user when the tests run as root.
  await chmod(dir, 0o755);
  postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'postgres'),
    port: await freePort(),
    durable: false,
  });
  databaseUrl = postgres.url;
});

after(async () => {
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

runBusContract(
  'embedded',
  async () => ({
    bus: await createEmbeddedBus({
      connectionString: databaseUrl as string,
      topicPrefix: 'test.',
      logger,
      retryBaseDelayMs: 100,
    }),
    cleanup: async () => {},
  }),
  { perKeyOrder: false },
);
