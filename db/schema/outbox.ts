import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { createdAt } from './columns.ts';

export const outbox = pgTable(
  'outbox',
  {
    id: uuid('id').primaryKey(),
    /** Commit-independent order for the relay; ids are random. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
    aggregateId: uuid('aggregate_id').notNull(),
    topic: text('topic').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    headers: jsonb('headers').$type<Record<string, string>>().notNull(),
    replayOf: uuid('replay_of'),
    /** W3C trace context of the operation that wrote the event; the relay sends it as the `traceparent` header. */
    traceparent: text('traceparent'),
    createdAt: createdAt(),
    /** Set in the statement that takes the row out of `outbox_pending`; indexed by nothing, so a HOT update. */
    publishedAt: timestamp('published_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [index('outbox_aggregate_idx').on(t.aggregateId), index('outbox_created_idx').on(t.createdAt)],
);

/**
 * The outbox rows not yet published, by `seq`: written in the statement that inserts the outbox row, deleted
 * in the one that marks it published. The relay's reads and the backlog's count walk this small table instead
 * of a partial index on `outbox`, whose upkeep made every mark a non-HOT update of the wide row.
 */
export const outboxPending = pgTable('outbox_pending', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  id: uuid('id').notNull(),
});

export const processedEvent = pgTable(
  'processed_event',
  {
    consumer: text('consumer').notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: timestamp('processed_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);
