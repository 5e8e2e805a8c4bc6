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
