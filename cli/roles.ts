import { subscribeStopMarks } from '../api/media/stop-marks.ts';
import { startModerationRepoll } from '../api/moderation/repoll-sweep.ts';
import { registerStuckMediaGauge } from '../api/ops/stuck-media.ts';
import { readOutboxBacklog } from '../api/outbox/backlog.ts';
import { startRelay } from '../api/outbox/relay.ts';
import { subscribeResults } from '../api/results/results-consumer.ts';
import { subscribeVirusReports } from '../api/results/virus-consumer.ts';
import { createApiReadiness } from '../api/routes/health.ts';
import { buildApiServer } from '../api/server.ts';
import { startGarbageSweeper } from '../api/storage/garbage-sweeper.ts';
import { readWebhookQueue } from '../api/webhooks/deliveries.ts';
import { startDispatcher } from '../api/webhooks/dispatcher.ts';
import { subscribeWebhookFanOut } from '../api/webhooks/fan-out.ts';
import { topics } from '../contracts/events.ts';
import { connectDatabase } from '../db/client.ts';
import { postgresVerdictCache } from '../db/queries/verdict-cache.ts';
import { buildEdgeServer } from '../edge/server.ts';
import { createTokenVerifier } from '../platform/auth/jwt.ts';
import { createBus } from '../platform/bus/create-bus.ts';
import { type Config, requireSetting } from '../platform/config.ts';
import { databaseProbe, storageProbe } from '../platform/health/dependency-probes.ts';
import { createReadiness } from '../platform/health/readiness.ts';
import type { Logger } from '../platform/logger.ts';
import { registerBusGauges } from '../platform/metrics/bus.ts';
import { acquireRoleMetrics } from '../platform/metrics/endpoint.ts';
import { moderationMetrics } from '../platform/metrics/moderation.ts';
import { registerOutboxGauges, relayMetrics } from '../platform/metrics/outbox.ts';
import { uploadMetrics } from '../platform/metrics/uploads.ts';
import { registerWebhookGauges, webhookMetrics } from '../platform/metrics/webhooks.ts';
import { asyncVideoModeration } from '../platform/moderation/async-video.ts';
import { createModerator } from '../platform/moderation/create-moderator.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { tracedBus } from '../platform/tracing/consume.ts';
import { acquireTracing } from '../platform/tracing/sdk.ts';
import { consumeInBackground } from './background-consumer.ts';
import { type Running, reportMissingBucket } from './worker-role.ts';

/**
 * The control plane: REST, the outbox relay, the results consumer and the storage sweeper. It listens
 * before its consumers have joined their groups; `/readyz` says when they have.
 */
export async function runApi(config: Config, logger: Logger): Promise<Running> {
  const tracing = await acquireTracing(config.otel, 'api', logger);
  const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'));
  const storage = createS3Storage(config.s3);
  const bus = tracedBus(await createBus(config, logger));
  const readiness = createApiReadiness({ db: database.db, storage });
  const metrics = await acquireRoleMetrics(config, 'api', readiness, logger);
  const { registry } = metrics;
  const ctx = {
    config,
    db: database.db,
    storage,
    logger,
    moderator: createModerator(
      config.moderation,
      postgresVerdictCache(database.db),
      logger,
      moderationMetrics(registry),
    ),
    deadLetters: bus,
    metrics: uploadMetrics(registry),
  };
  registerStuckMediaGauge(registry, database.db, config.stuckProcessingAfterSeconds);
  registerOutboxGauges(registry, () => readOutboxBacklog(database.db));
  registerBusGauges(registry, bus, Object.values(topics));
  const app = await buildApiServer(ctx, createTokenVerifier(config.auth), registry, readiness);
  const url = await app.listen({ host: config.host, port: config.apiPort });
  reportMissingBucket(storage, logger);
  const relay = startRelay({
    connectionString: config.databaseUrl as string,
    bus,
    logger,
    metrics: relayMetrics(registry),
  });
  registerWebhookGauges(registry, () => readWebhookQueue(database.db));
  const dispatcher = startDispatcher({
    db: database.db,
    settings: config.webhooks,
    logger,
    metrics: webhookMetrics(registry),
  });
  const consumers = [
    consumeInBackground('results consumer', readiness, logger, () =>
      subscribeResults(database.db, storage, bus, logger, registry),
    ),
    consumeInBackground('virus consumer', readiness, logger, () =>
      subscribeVirusReports(database.db, bus, logger),
    ),
    consumeInBackground('stop marks', readiness, logger, () =>
      subscribeStopMarks(database.db, storage, bus, logger),
    ),
    consumeInBackground('webhook fan-out', readiness, logger, () =>
      subscribeWebhookFanOut(database.db, bus, logger, dispatcher.wake),
    ),
  ];
  const sweeper = startGarbageSweeper(database.db, storage, logger);
  const asyncVideo = asyncVideoModeration(config.moderation);
  const repoll = asyncVideo && startModerationRepoll(ctx, asyncVideo);
  return {
    url,
    async stop() {
      await app.close();
      sweeper.stop();
      repoll?.stop();
      await relay.stop();
      await dispatcher.stop();
      for (const consumer of consumers) await consumer.stop();
      await bus.close();
      await database.close();
      await metrics.release();
      await tracing.release();
    },
  };
}

export async function runEdge(config: Config, logger: Logger): Promise<Running> {
  const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'), 20);
  const storage = createS3Storage(config.s3);
  const readiness = createReadiness();
  readiness.addCheck(
    'database',
    databaseProbe(() => database.pool.query('select 1')),
  );
  readiness.addCheck('storage', storageProbe(storage));
  const metrics = await acquireRoleMetrics(config, 'edge', readiness, logger);
  const app = await buildEdgeServer({
    config,
    pool: database.pool,
    storage,
    verify: createTokenVerifier(config.auth),
    logger,
    readiness,
    registry: metrics.registry,
  });
  const url = await app.listen({ host: config.host, port: config.edgePort });
  reportMissingBucket(storage, logger);
  return {
    url,
    async stop() {
      await app.close();
      await database.close();
      await metrics.release();
    },
  };
}
