import { collectDefaultMetrics, Registry } from 'prom-client';
import { startRelay } from '../api/outbox/relay.ts';
import { subscribeResults } from '../api/results/results-consumer.ts';
import { subscribeVirusReports } from '../api/results/virus-consumer.ts';
import { buildApiServer } from '../api/server.ts';
import { startGarbageSweeper } from '../api/storage/garbage-sweeper.ts';
import { connectDatabase } from '../db/client.ts';
import { postgresVerdictCache } from '../db/queries/verdict-cache.ts';
import { buildEdgeServer } from '../edge/server.ts';
import { createTokenVerifier } from '../platform/auth/jwt.ts';
import { createBus } from '../platform/bus/create-bus.ts';
import { createClamd } from '../platform/clamav/clamd.ts';
import { type Config, requireSetting } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import { createModerator } from '../platform/moderation/create-moderator.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { startWorker } from '../worker/worker.ts';

export interface Running {
  url?: string;
  stop(): Promise<void>;
}

/** The control plane: REST, the outbox relay, the results consumer and the storage sweeper. */
export async function runApi(config: Config, logger: Logger): Promise<Running> {
  const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'));
  const storage = createS3Storage(config.s3);
  const bus = await createBus(config, logger);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const app = await buildApiServer(
    {
      config,
      db: database.db,
      storage,
      logger,
      moderator: createModerator(config.moderation, postgresVerdictCache(database.db), logger),
      deadLetters: bus,
    },
    createTokenVerifier(config.auth),
    registry,
  );
  const relay = startRelay({ connectionString: config.databaseUrl as string, bus, logger });
  const results = await subscribeResults(database.db, bus, logger);
  const virusReports = await subscribeVirusReports(database.db, bus, logger);
  const sweeper = startGarbageSweeper(database.db, storage, logger);
  const url = await app.listen({ host: config.host, port: config.apiPort });
  return {
    url,
    async stop() {
      await app.close();
      sweeper.stop();
      await relay.stop();
      await results.stop();
      await virusReports.stop();
      await bus.close();
      await database.close();
    },
  };
}

export async function runWorker(config: Config, logger: Logger): Promise<Running> {
  const bus = await createBus(config, logger);
  const clamd = config.clamav.host
    ? createClamd({ host: config.clamav.host, port: config.clamav.port })
    : undefined;
  if (!clamd) logger.warn('virus scanning is OFF: CLAMAV_HOST is not set');
  const subscription = await startWorker({ config, storage: createS3Storage(config.s3), bus, logger, clamd });
  return {
    async stop() {
      await subscription.stop();
      await bus.close();
    },
  };
}

export async function runEdge(config: Config, logger: Logger): Promise<Running> {
  const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'), 20);
  const app = await buildEdgeServer({
    config,
    pool: database.pool,
    storage: createS3Storage(config.s3),
    verify: createTokenVerifier(config.auth),
    logger,
  });
  const url = await app.listen({ host: config.host, port: config.edgePort });
  return {
    url,
    async stop() {
      await app.close();
      await database.close();
    },
  };
}
