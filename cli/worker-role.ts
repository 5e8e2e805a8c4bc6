import { createBus } from '../platform/bus/create-bus.ts';
import { createClamd } from '../platform/clamav/clamd.ts';
import type { Config } from '../platform/config.ts';
import { storageProbe } from '../platform/health/dependency-probes.ts';
import { createReadiness } from '../platform/health/readiness.ts';
import type { Logger } from '../platform/logger.ts';
import { acquireRoleMetrics } from '../platform/metrics/endpoint.ts';
import { workerMetrics } from '../platform/metrics/pipeline.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { tracedBus } from '../platform/tracing/consume.ts';
import { acquireTracing } from '../platform/tracing/sdk.ts';
import { startWorker } from '../worker/worker.ts';
import { consumeInBackground } from './background-consumer.ts';

// Apart from cli/roles.ts, so a worker process never loads the API, the edge or the database layer: their
// modules (drizzle's ESM graph above all) cost a role ~150 MB of heap V8 keeps for good.

export interface Running {
  url?: string;
  stop(): Promise<void>;
}

/** Optimize requests in, derivatives out. Its only HTTP port is the metrics endpoint, with its probes. */
export async function runWorker(config: Config, logger: Logger): Promise<Running> {
  const tracing = await acquireTracing(config.otel, 'worker', logger);
  const bus = tracedBus(await createBus(config, logger));
  const storage = createS3Storage(config.s3);
  const clamd = config.clamav.host
    ? createClamd({ host: config.clamav.host, port: config.clamav.port })
    : undefined;
  if (!clamd) logger.warn('virus scanning is OFF: CLAMAV_HOST is not set');
  const readiness = createReadiness();
  readiness.addCheck('storage', storageProbe(storage));
  const metrics = await acquireRoleMetrics(config, 'worker', readiness, logger);
  reportMissingBucket(storage, logger);
  const consumer = consumeInBackground('optimize consumer', readiness, logger, () =>
    startWorker({ config, storage, bus, logger, clamd, metrics: workerMetrics(metrics.registry) }),
  );
  return {
    async stop() {
      await consumer.stop();
      await bus.close();
      await metrics.release();
      await tracing.release();
    },
  };
}

/**
 * A missing bucket is an operator's mistake, so it is said at start, naming the bucket and the remedy,
 * rather than first surfacing as failed uploads. The role still starts: `/readyz` stays false until the
 * bucket exists.
 */
export function reportMissingBucket(storage: ObjectStorage, logger: Logger): void {
  void storageProbe(storage)().then((problem) => {
    if (problem) logger.error({ bucket: storage.bucket }, problem);
  });
}
