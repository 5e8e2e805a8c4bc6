import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { webhookDeliveryStates } from '../../contracts/webhook-endpoints.ts';
import { createdAt, oneOf } from './columns.ts';

/** Webhook deliveries already applied, per vendor event id (vendors retry and replay). */
export const webhookEvent = pgTable(
  'webhook_event',
  {
    vendor: text('vendor').notNull(),
    eventId: text('event_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.vendor, t.eventId] })],
);

/**
 * Where apps want lifecycle events pushed (Standard Webhooks). `eventTypes` empty means every type. While an
 * endpoint fails, `failingSince` holds the first failed attempt of the streak; a success clears it.
 */
export const webhookEndpoint = pgTable('webhook_endpoint', {
  id: uuid('id').primaryKey(),
  url: text('url').notNull(),
  description: text('description').notNull().default(''),
  /** `whsec_<base64>`; the previous one still signs until `previousSecretUntil`, so a rotation loses nothing. */
  secret: text('secret').notNull(),
  previousSecret: text('previous_secret'),
  previousSecretUntil: timestamp('previous_secret_until', { withTimezone: true }),
  eventTypes: text('event_types').array().notNull().default(sql`'{}'::text[]`),
  enabled: boolean('enabled').notNull().default(true),
  disabledReason: text('disabled_reason'),
  disabledAt: timestamp('disabled_at', { withTimezone: true }),
  failingSince: timestamp('failing_since', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** One event for one endpoint: the durable queue the dispatcher claims from, and its outcome. */
export const webhookDelivery = pgTable(
  'webhook_delivery',
  {
    id: uuid('id').primaryKey(),
    endpointId: uuid('endpoint_id')
      .notNull()
      .references(() => webhookEndpoint.id, { onDelete: 'cascade' }),
    /** The `webhook-id` header on every attempt and redelivery: the lifecycle event's stable id. */
    eventId: uuid('event_id').notNull(),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    state: text('state', { enum: webhookDeliveryStates }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    /** When a pending delivery is due; while an attempt is in flight, when its claim lapses. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastStatus: integer('last_status'),
    lastLatencyMs: integer('last_latency_ms'),
    lastExcerpt: text('last_excerpt'),
    lastError: text('last_error'),
    createdAt: createdAt(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('webhook_delivery_endpoint_event_idx').on(t.endpointId, t.eventId),
    index('webhook_delivery_due_idx').on(t.nextAttemptAt).where(sql`${t.state} = 'pending'`),
    index('webhook_delivery_endpoint_idx').on(t.endpointId, t.createdAt),
    check('webhook_delivery_state_check', oneOf(t.state, webhookDeliveryStates)),
  ],
);

/** Every HTTP attempt, the endpoint's delivery log. */
export const webhookAttempt = pgTable(
  'webhook_attempt',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deliveryId: uuid('delivery_id')
      .notNull()
      .references(() => webhookDelivery.id, { onDelete: 'cascade' }),
    endpointId: uuid('endpoint_id').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    /** `scheduled` by the dispatcher, `manual` a redelivery an operator asked for. */
    trigger: text('trigger').notNull(),
    statusCode: integer('status_code'),
    latencyMs: integer('latency_ms').notNull(),
    responseExcerpt: text('response_excerpt'),
    error: text('error'),
  },
  (t) => [
    index('webhook_attempt_delivery_idx').on(t.deliveryId, t.id),
    index('webhook_attempt_endpoint_idx').on(t.endpointId, t.id),
  ],
);
