import { Value } from '@sinclair/typebox/value';
import type { Registry } from 'prom-client';
import { processingFailureCodes } from '../../contracts/errors.ts';
import { OptimizeResult, type OptimizeResult as Result, topics } from '../../contracts/events.ts';
import type { Database } from '../../db/client.ts';
import type { Bus, Subscription } from '../../platform/bus/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { counter } from '../../platform/metrics/registry.ts';
import { type UploadMetrics, uploadMetrics } from '../../platform/metrics/uploads.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import { applyPartialResult } from './apply-partial.ts';
import { applyOptimizeResult, resultsConsumer } from './apply-result.ts';
import { applyChunkedStage, chunkedStages } from './chunked/apply-chunked-stage.ts';
import { appliedResultFacts } from './result-facts.ts';

/**
 * Consumes worker results. A payload that fails the contract throws, so the bus retries it and finally
 * parks it in the dead-letter queue for an operator; it never blocks results behind it.
 */
export function subscribeResults(
  db: Database,
  storage: ObjectStorage,
  bus: Bus,
  logger: Logger,
  registry?: Registry,
): Promise<Subscription> {
  const deadLettered =
    registry &&
    counter(
      registry,
      'mediagate_media_dead_lettered_total',
      'Media marked failed because their optimize request was dead-lettered after every attempt',
    );
  const funnel = registry && uploadMetrics(registry);
  return bus.subscribe(topics.optimizeResult, resultsConsumer, async (message) => {
    if (!Value.Check(OptimizeResult, message.payload)) {
      const first = [...Value.Errors(OptimizeResult, message.payload)][0];
      throw new Error(
        `optimize result ${message.id} breaks the contract at ${first?.path}: ${first?.message}`,
      );
    }
    const stage = message.payload.stage ?? 'final';
    if (chunkedStages.has(stage)) {
      const { outcome, settled } = await applyChunkedStage(db, storage, message.payload);
      if (settled?.outcome === 'applied' && settled.result && funnel)
        await countOutcome(db, funnel, settled.result, logger);
      const settledOutcome = settled?.outcome;
      logger.info(
        { mediaId: message.payload.mediaId, eventId: message.id, stage, outcome, settledOutcome },
        'optimize result',
      );
      return;
    }
    const outcome =
      stage === 'final'
        ? await applyOptimizeResult(db, message.id, message.payload, message.position)
        : await applyPartialResult(db, message.payload);
    if (stage === 'progress') return;
    if (outcome === 'applied' && message.payload.error?.code === 'processing_dead_lettered')
      deadLettered?.inc();
    if (outcome === 'applied' && stage === 'final' && funnel)
      await countOutcome(db, funnel, message.payload, logger);
    logger.info({ mediaId: message.payload.mediaId, eventId: message.id, stage, outcome }, 'optimize result');
  });
}

const knownFailureCodes: ReadonlySet<string> = new Set(processingFailureCodes);

/** The funnel's last steps; a metrics query that fails costs the metric, never the result. */
async function countOutcome(db: Database, funnel: UploadMetrics, result: Result, logger: Logger) {
  try {
    const facts = await appliedResultFacts(db, result.mediaId);
    if (!facts) return;
    if (!result.success) {
      // The worker is trusted, but a label must stay bounded whatever arrives on the bus.
      const code = result.error?.code ?? 'processing_failed';
      funnel.failed.inc({ kind: facts.kind, code: knownFailureCodes.has(code) ? code : 'other' });
      return;
    }
    funnel.ready.inc({ kind: facts.kind });
    if (facts.fromStatus === 'processing' && facts.secondsSinceCompletion !== null) {
      funnel.timeToReady.observe({ kind: facts.kind }, facts.secondsSinceCompletion);
    }
  } catch (error) {
    logger.warn({ err: error, mediaId: result.mediaId }, 'could not record the result in the metrics');
  }
}
