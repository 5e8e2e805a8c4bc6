import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { eventSchemaVersion } from '../../contracts/events.ts';
import { createMessageSpan } from '../../platform/tracing/spans.ts';
import type { Queryable } from '../client.ts';
import { outbox } from '../schema.ts';

export const outboxChannel = 'mediagate_outbox';

export interface OutboxEvent {
  /** Chosen by the caller when the payload names its own id (lifecycle events); random otherwise. */
  id?: string;
  aggregateId: string;
  topic: string;
  eventType: string;
  payload: unknown;
  replayOf?: string;
  /** The trace the event continues; by default the one active where it is enqueued. */
  traceparent?: string;
}

/**
 * Writes events in the caller's transaction; the relay is woken on commit. Each row keeps the trace context
 * it was written in, so whoever consumes the event continues the trace of the request that caused it.
 */
export async function enqueueEvents(tx: Queryable, events: OutboxEvent[]): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = events.map((e) => {
    const id = e.id ?? randomUUID();
    const headers: Record<string, string> = {
      'event-id': id,
      'event-type': e.eventType,
      'schema-version': eventSchemaVersion,
    };
    if (e.replayOf) headers['replay-of'] = e.replayOf;
    return {
      id,
      aggregateId: e.aggregateId,
      topic: e.topic,
      eventType: e.eventType,
      payload: e.payload,
      headers,
      replayOf: e.replayOf,
      traceparent: e.traceparent ?? createMessageSpan(e.topic, id),
    };
  });
  await tx.insert(outbox).values(rows);
  await tx.execute(sql`select pg_notify(${outboxChannel}, '')`);
  return rows.map((r) => r.id);
}

/** An unpublished row as the relay sends it: the payload as jsonb's text. */
export interface UnpublishedRow {
  id: string;
  aggregate_id: string;
  topic: string;
  event_type: string;
  payload: string;
  headers: Record<string, string>;
  traceparent: string | null;
}

/** A session of its own (the relay's leader lock and its marks live on dedicated connections). */
export interface Session {
  query<R extends object>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * The first `limit` unpublished rows in `seq` order, leaving out rows already on their way (sent or being
 * marked). Not a "seq above the last one" cursor: a slower transaction can commit a lower seq later, and it
 * must still go out. The payload comes as text so that it is sent as stored, never parsed and encoded again.
 */
export async function readUnpublished(
  session: Session,
  limit: number,
  underway: readonly string[],
): Promise<UnpublishedRow[]> {
  const { rows } = await session.query<UnpublishedRow>(
    `select id, aggregate_id, topic, event_type, payload::text as payload, headers, traceparent
       from outbox
      where published_at is null and id <> all($2::uuid[])
      order by seq limit $1`,
    [limit, underway],
  );
  return rows;
}

export async function markPublished(session: Session, ids: readonly string[]): Promise<void> {
  await session.query(
    'update outbox set published_at = now(), attempts = attempts + 1 where id = any($1::uuid[])',
    [ids],
  );
}

export async function recordPublishFailure(
  session: Session,
  ids: readonly string[],
  message: string,
): Promise<void> {
  await session.query(
    'update outbox set attempts = attempts + 1, last_error = $2 where id = any($1::uuid[])',
    [ids, message.slice(0, 2000)],
  );
}
