import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lte, sql } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import type { OutboxQuery, ReplayBody } from '../../contracts/ops.ts';
import type { Database } from '../../db/client.ts';
import { enqueueEvents } from '../../db/queries/outbox.ts';
import { outbox } from '../../db/schema.ts';
import { traceIdOf } from '../../platform/tracing/spans.ts';

type OutboxRowDb = typeof outbox.$inferSelect;

export function outboxView(row: OutboxRowDb) {
  return {
    id: row.id,
    aggregateId: row.aggregateId,
    topic: row.topic,
    eventType: row.eventType,
    payload: row.payload,
    replayOf: row.replayOf,
    createdAt: row.createdAt.toISOString(),
    publishedAt: row.publishedAt?.toISOString() ?? null,
    attempts: row.attempts,
    lastError: row.lastError,
    // Rows written before the column existed kept it among their headers.
    traceId: traceIdOf(row.traceparent ?? row.headers.traceparent),
  };
}

export async function listOutbox(db: Database, query: OutboxQuery) {
  const state = query.state ?? 'pending';
  const rows = await db
    .select()
    .from(outbox)
    .where(
      and(
        state === 'pending'
          ? isNull(outbox.publishedAt)
          : state === 'published'
            ? isNotNull(outbox.publishedAt)
            : undefined,
        query.mediaId ? eq(outbox.aggregateId, query.mediaId) : undefined,
      ),
    )
    .orderBy(state === 'pending' ? asc(outbox.seq) : desc(outbox.seq))
    .limit(query.limit ?? 100);
  const [backlog] = await db
    .select({
      pending: sql<number>`count(*)::int`,
      oldest: sql<number | null>`extract(epoch from now() - min(${outbox.createdAt}))::float8`,
    })
    .from(outbox)
    .where(isNull(outbox.publishedAt));
  return {
    pending: backlog?.pending ?? 0,
    oldestPendingAgeSeconds: backlog?.oldest ?? null,
    items: rows.map(outboxView),
  };
}

/**
 * A replay is a new event (new id, `replay_of` = the original) so consumers that already processed the
 * original process it again. Replays of replays point at the first original.
 */
export async function replayOutbox(db: Database, body: ReplayBody) {
  return db.transaction(async (tx) => {
    const where =
      'ids' in body
        ? inArray(outbox.id, body.ids)
        : 'mediaId' in body
          ? and(eq(outbox.aggregateId, body.mediaId), isNull(outbox.replayOf))
          : and(
              gte(outbox.createdAt, new Date(body.from)),
              lte(outbox.createdAt, new Date(body.to)),
              isNull(outbox.replayOf),
              body.topic ? eq(outbox.topic, body.topic) : undefined,
            );
    const originals = await tx.select().from(outbox).where(where).orderBy(asc(outbox.seq)).limit(10_000);
    if (originals.length === 0) throw new AppError('not_found', 'No outbox events match the selector');
    const ids = await enqueueEvents(
      tx,
      originals.map((o) => ({
        aggregateId: o.aggregateId,
        topic: o.topic,
        eventType: o.eventType,
        payload: o.payload,
        replayOf: o.replayOf ?? o.id,
        traceparent: o.traceparent ?? o.headers.traceparent,
      })),
    );
    return {
      replayed: ids.map((id, i) => ({ id, replayOf: originals[i]?.replayOf ?? originals[i]?.id ?? '' })),
    };
  });
}
