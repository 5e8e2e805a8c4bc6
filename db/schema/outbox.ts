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
    /**
     * When the broker acknowledged the row. Stamped in bulk from `outbox_published_batch` (within
     * seconds, and whenever the relay falls idle); indexed by nothing, so a HOT update.
     */
    publishedAt: timestamp('published_at', { withTimezone: true }),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
  },
  (t) => [index('outbox_aggregate_idx').on(t.aggregateId), index('outbox_created_idx').on(t.createdAt)],
);

/**
 * The outbox rows not yet published, by `seq`, each a copy of what the relay sends (listed by the outbox's
 * insert trigger, deleted when the broker acknowledged the row): the relay reads and deletes this small table
 * alone, never the outbox, whose upkeep per row made most of the relay's database time.
 */
export const outboxPending = pgTable('outbox_pending', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  id: uuid('id').notNull(),
  aggregateId: uuid('aggregate_id').notNull(),
  topic: text('topic').notNull(),
  eventType: text('event_type').notNull(),
  payload: jsonb('payload').notNull(),
  headers: jsonb('headers').$type<Record<string, string>>().notNull(),
  traceparent: text('traceparent'),
});

/**
 * Batches the broker acknowledged whose outbox rows are not stamped `published_at` yet: written in the
 * statement that deletes them from `outbox_pending`, applied to the outbox and deleted in bulk later.
 */
export const outboxPublishedBatch = pgTable('outbox_published_batch', {
  publishedAt: timestamp('published_at', { withTimezone: true }).notNull().defaultNow(),
  ids: uuid('ids').array().notNull(),
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
