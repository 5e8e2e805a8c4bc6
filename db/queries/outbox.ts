import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { eventSchemaVersion } from '../../contracts/events.ts';
import { createMessageSpan } from '../../platform/tracing/spans.ts';
import type { Queryable } from '../client.ts';
import { outbox } from '../schema.ts';

/** What the outbox's insert trigger notifies on (migrations 0008 and 0009 name it too). */
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
 * Writes events in the caller's transaction, in one statement: the table's trigger (migrations 0008, 0009) lists the
 * rows in `outbox_pending` and wakes the relay on commit. Each row keeps the trace context it was written in,
 * so whoever consumes the event continues the trace of the request that caused it.
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
  return rows.map((r) => r.id);
}

/** An unpublished row as the relay sends it: the payload as the text PostgreSQL prints for its jsonb. */
export interface UnpublishedRow {
  /** A bigint, as the text PostgreSQL sends. */
  seq: string;
  id: string;
  aggregate_id: string;
  topic: string;
  event_type: string;
  payload: string;
  headers: Record<string, string>;
  traceparent: string | null;
}

/** The relay's dedicated session (its leader lock lives on it). */
export type Session = Pick<pg.ClientBase, 'query'>;

const jsonbOid = 3802;
/** jsonb columns handed over as the text PostgreSQL sent, not parsed. */
const jsonbAsText: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === jsonbOid
      ? (text: string) => text
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Takes the rows whose seqs are `$1` out of pending and logs them as one acknowledged batch, owed its stamp:
 * no outbox row is touched until `stampPublished` (each row's HOT update and the read of the outbox row were
 * two thirds of the relay's database time).
 */
const markSql = `with done as (delete from outbox_pending where seq = any($1::bigint[]) returning id),
  logged as (insert into outbox_published_batch (ids) select array_agg(id) from done having count(*) > 0)`;

/**
 * A bigint[] parameter as PostgreSQL's array literal. Seqs are digit strings, so none needs quoting; pg's own
 * serialization escapes each element one call at a time, up to 1,500 per batch on the relay's event loop.
 */
const seqArray = (seqs: readonly string[]) => `{${seqs.join(',')}}`;

/**
 * Marks the `published` rows and returns the first `limit` pending rows in `seq` order other than those and
 * the `underway` ones, in one statement: the relay's one round trip per batch. (The select sees the pending
 * rows as they were before the statement's own delete, hence the exclusion.) Not a "seq above the last one"
 * cursor: a slower transaction can commit a lower seq later, and it must still go out. Pending rows carry
 * what is sent, so no outbox row is read. The payload is kept as the text it arrives as, so that it is sent
 * as stored, never parsed and encoded again.
 */
export async function readUnpublished(
  session: Session,
  limit: number,
  underway: readonly string[],
  published: readonly string[] = [],
): Promise<UnpublishedRow[]> {
  const { rows } = await session.query<UnpublishedRow>({
    text: `${markSql}
      select seq, id, aggregate_id, topic, event_type, payload, headers, traceparent from outbox_pending
       where seq <> all($1::bigint[]) and seq <> all($2::bigint[]) order by seq limit $3`,
    values: [seqArray(published), seqArray(underway), limit],
    types: jsonbAsText,
  });
  // Parsed in place rather than copied: the relay reads every row of every event once.
  for (const row of rows) row.headers = JSON.parse(row.headers as unknown as string);
  return rows;
}

/** Takes the rows out of pending as one acknowledged batch; their outbox rows are stamped by `stampPublished`. */
export async function markPublished(session: Session, seqs: readonly string[]): Promise<void> {
  if (seqs.length > 0) await session.query(`${markSql} select`, [seqArray(seqs)]);
}

/**
 * Stamps `published_at` (with `attempts`) on the outbox rows of every batch marked so far, each with the time
 * its batch was marked, so that the outbox's readers (listings, replay, traces) see what the relay sent.
 */
export async function stampPublished(session: Session): Promise<void> {
  // `= any(ids)` per batch keeps the plan on the outbox's primary key; a join on the unnested ids let the
  // planner hash the whole outbox, which grows without bound.
  await session.query(
    `with owed as (delete from outbox_published_batch returning published_at, ids)
     update outbox o set published_at = s.published_at, attempts = o.attempts + 1
       from owed s where o.id = any(s.ids)`,
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
