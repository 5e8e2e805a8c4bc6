import { Value } from '@sinclair/typebox/value';
import type { Registry } from 'prom-client';
import { OptimizeResult, topics } from '../../contracts/events.ts';
import type { Database } from '../../db/client.ts';
import type { Bus, Subscription } from '../../platform/bus/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { counter } from '../../platform/metrics/registry.ts';
import { applyPartialResult } from './apply-partial.ts';
import { applyOptimizeResult, resultsConsumer } from './apply-result.ts';

/**
 * Consumes worker results. A payload that fails the contract throws, so the bus retries it and finally
 * parks it in the dead-letter queue for an operator; it never blocks results behind it.
 */
export function subscribeResults(
  db: Database,
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
  return bus.subscribe(topics.optimizeResult, resultsConsumer, async (message) => {
    if (!Value.Check(OptimizeResult, message.payload)) {
      const first = [...Value.Errors(OptimizeResult, message.payload)][0];
      throw new Error(
        `optimize result ${message.id} breaks the contract at ${first?.path}: ${first?.message}`,
      );
    }
    const stage = message.payload.stage ?? 'final';
    const outcome =
      stage === 'final'
        ? await applyOptimizeResult(db, message.id, message.payload)
        : await applyPartialResult(db, message.payload);
    if (stage === 'progress') return;
    if (outcome === 'applied' && message.payload.error?.code === 'processing_dead_lettered')
      deadLettered?.inc();
    logger.info({ mediaId: message.payload.mediaId, eventId: message.id, stage, outcome }, 'optimize result');
  });
}
