import { Value } from '@sinclair/typebox/value';
import { asc, eq } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { ExecutionReport, KafkaPosition } from '../../contracts/events.ts';
import type { Database } from '../../db/client.ts';
import { media, mediaEvent, mediaVariant, outbox } from '../../db/schema.ts';
import { outboxView } from './outbox-ops.ts';

type MediaEventRow = typeof mediaEvent.$inferSelect;

/**
 * Everything known about one media's journey: its row, each status change, its events and outputs, the
 * trace to open in the tracing backend, and for each worker run the worker, its step times and the Kafka
 * positions of the request and the result.
 */
export async function traceMedia(db: Database, mediaId: string) {
  const [row] = await db.select().from(media).where(eq(media.id, mediaId));
  if (!row) throw new AppError('media_not_found', `No media ${mediaId}`);
  const [events, outboxRows, variants] = await Promise.all([
    db.select().from(mediaEvent).where(eq(mediaEvent.mediaId, mediaId)).orderBy(asc(mediaEvent.id)),
    db.select().from(outbox).where(eq(outbox.aggregateId, mediaId)).orderBy(asc(outbox.seq)),
    db.select().from(mediaVariant).where(eq(mediaVariant.mediaId, mediaId)),
  ]);
  const outboxItems = outboxRows.map(outboxView);
  return {
    media: { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() },
    traceId: outboxItems.findLast((o) => o.eventType === 'media.optimize.request')?.traceId ?? null,
    events: events.map((e) => ({ ...e, at: e.at.toISOString() })),
    outbox: outboxItems,
    processing: events.flatMap(processingRun),
    variants: variants.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
  };
}

/**
 * The worker's report, as the results consumer kept it on the transition a result made. The detail is
 * read defensively: rows written before reports existed, or by a newer worker, must not break the view.
 */
function processingRun(event: MediaEventRow) {
  const detail = event.detail ?? {};
  const execution = detail.execution;
  if (event.actor !== 'worker' || typeof detail.requestId !== 'string') return [];
  if (!Value.Check(ExecutionReport, execution)) return [];
  const resultPosition = detail.resultPosition;
  return [
    {
      requestId: detail.requestId,
      at: event.at.toISOString(),
      outcome: event.toStatus,
      worker: { hostname: execution.worker.hostname, pid: execution.worker.pid },
      totalMs: execution.totalMs,
      steps: execution.steps.map(({ name, startMs, ms, ok }) => ({ name, startMs, ms, ok })),
      request: position(execution.request),
      result: position(resultPosition),
    },
  ];
}

function position(value: unknown): KafkaPosition | null {
  if (!Value.Check(KafkaPosition, value)) return null;
  return { topic: value.topic, partition: value.partition, offset: value.offset };
}
