import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
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
import type { ChunkRendition, ProcessedObject } from '../contracts/events.ts';
import { mediaStatuses } from '../contracts/media.ts';
import { mediaKinds } from '../contracts/media-types.ts';
import { webhookDeliveryStates } from '../contracts/webhook-endpoints.ts';

const sessionStates = ['open', 'completing', 'completed', 'aborted', 'expired'] as const;
const visibilities = ['private', 'public'] as const;

/**
 * The database refuses values outside an enum column's list: a row the code cannot read (a `kind` it has no
 * branch for) would break every page that lists it, so it must never be written.
 */
const oneOf = (column: AnyPgColumn, values: readonly string[]) =>
  sql`${column} in (${sql.raw(values.map((v) => `'${v}'`).join(', '))})`;

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const media = pgTable(
  'media',
  {
    id: uuid('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    kind: text('kind', { enum: mediaKinds }).notNull(),
    status: text('status', { enum: mediaStatuses }).notNull(),
    bucket: text('bucket').notNull(),
    objectKey: text('object_key').notNull(),
    filename: text('filename').notNull(),
    contentType: text('content_type').notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
    declaredSha256: text('declared_sha256'),
    /** Set only from the worker's own hash of the bytes, never from what a client declared. */
    sha256: text('sha256'),
    /** Keys, not URLs: the edge host and per-viewer tokens are decided when a view is built. */
    displayKey: text('display_key'),
    thumbnailKey: text('thumbnail_key'),
    placeholder: text('placeholder'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>(),
    probe: jsonb('probe').$type<Record<string, unknown>>(),
    /** Per-output progress of the running job (0..1), shown while the media is processing. */
    progress: jsonb('progress').$type<Record<string, number>>(),
    position: integer('position').notNull().default(0),
    visibility: text('visibility', { enum: visibilities }).notNull().default('private'),
    /** allowed | rejected | pending (a vendor judges asynchronously and calls the webhook) | skipped. */
    moderationStatus: text('moderation_status'),
    moderationJobId: text('moderation_job_id'),
    failureCode: text('failure_code'),
    failureDetail: text('failure_detail'),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('media_owner_position_idx').on(t.ownerId, t.position),
    index('media_object_key_idx').on(t.objectKey),
    index('media_owner_sha_idx').on(t.ownerId, t.sha256).where(sql`${t.sha256} is not null`),
    /** Uploads per day (ops stats). */
    index('media_created_idx').on(t.createdAt),
    check('media_kind_check', oneOf(t.kind, mediaKinds)),
    check('media_status_check', oneOf(t.status, mediaStatuses)),
    check('media_visibility_check', oneOf(t.visibility, visibilities)),
  ],
);

export const mediaVariant = pgTable(
  'media_variant',
  {
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    quality: text('quality').notNull(),
    format: text('format').notNull(),
    objectKey: text('object_key').notNull(),
    width: integer('width'),
    height: integer('height'),
    bytes: bigint('bytes', { mode: 'number' }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    primaryKey({ columns: [t.mediaId, t.quality] }),
    index('media_variant_object_key_idx').on(t.objectKey),
  ],
);

export const uploadSession = pgTable(
  'upload_session',
  {
    id: uuid('id').primaryKey(),
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    ownerId: text('owner_id').notNull(),
    storageUploadId: text('storage_upload_id').notNull(),
    objectKey: text('object_key').notNull(),
    partSize: bigint('part_size', { mode: 'number' }).notNull(),
    partCount: integer('part_count').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    state: text('state', { enum: sessionStates }).notNull(),
    createdAt: createdAt(),
    closedAt: timestamp('closed_at', { withTimezone: true }),
  },
  (t) => [
    index('upload_session_open_idx').on(t.expiresAt).where(sql`${t.state} = 'open'`),
    check('upload_session_state_check', oneOf(t.state, sessionStates)),
  ],
);

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

export const mediaEvent = pgTable(
  'media_event',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    mediaId: uuid('media_id').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    actor: text('actor').notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('media_event_media_idx').on(t.mediaId, t.at),
    /** Processing health over a recent window (ops stats). */
    index('media_event_at_idx').on(t.at),
  ],
);

/** Storage keys no longer pointed at; removed after a grace period if still unreferenced. */
export const storageGarbage = pgTable(
  'storage_garbage',
  {
    objectKey: text('object_key').primaryKey(),
    deleteAfter: timestamp('delete_after', { withTimezone: true }).notNull(),
  },
  (t) => [index('storage_garbage_due_idx').on(t.deleteAfter)],
);

/** Vendor verdicts by content hash: the same content is never sent to the vendor twice. */
export const moderationVerdict = pgTable('moderation_verdict', {
  contentHash: text('content_hash').primaryKey(),
  verdict: jsonb('verdict').notNull(),
  createdAt: createdAt(),
});

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

const videoRungStates = ['chunks', 'assembling', 'assembled', 'failed'] as const;
const videoChunkStates = ['done', 'failed'] as const;

/**
 * A video encoded in chunk jobs across the fleet (worker/video/chunks): the plan its coordinator reported,
 * so the results consumer knows how many chunks make each rung and what settles the media.
 */
export const videoPlan = pgTable(
  'video_plan',
  {
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id').notNull(),
    chunkCount: integer('chunk_count').notNull(),
    /** Chunk lengths in seconds, by index: the playlists' segment durations. */
    chunkSeconds: jsonb('chunk_seconds').$type<number[]>().notNull(),
    sha256: text('sha256'),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull(),
    withAudio: boolean('with_audio').notNull(),
    /** Poster and thumbnails the coordinator builds besides the chunks: each is reported, built or failed. */
    stillCount: integer('still_count').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.mediaId, t.requestId] })],
);

/** One rung of a chunked video: its chunks encode, then one job assembles its MP4. */
export const videoRung = pgTable(
  'video_rung',
  {
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id').notNull(),
    quality: text('quality').notNull(),
    /** Ladder position, smallest first: 0 is the rung whose EVENT playlist plays first. */
    ordinal: integer('ordinal').notNull(),
    bandwidth: integer('bandwidth').notNull(),
    /** What its chunk and assembly jobs build (contracts/events.ts ChunkRendition). */
    rendition: jsonb('rendition').$type<ChunkRendition>().notNull(),
    state: text('state', { enum: videoRungStates }).notNull().default('chunks'),
    detail: text('detail'),
  },
  (t) => [
    primaryKey({ columns: [t.mediaId, t.requestId, t.quality] }),
    check('video_rung_state_check', oneOf(t.state, videoRungStates)),
  ],
);

/** A (chunk, rung) a worker finished or gave up on: the checkpoint, written once. */
export const videoChunk = pgTable(
  'video_chunk',
  {
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id').notNull(),
    quality: text('quality').notNull(),
    chunkIndex: integer('chunk_index').notNull(),
    state: text('state', { enum: videoChunkStates }).notNull(),
    objectKey: text('object_key'),
    bytes: bigint('bytes', { mode: 'number' }),
    /** Who encoded it (`host:pid`), or who found it already stored; operators see the fleet share a video. */
    worker: text('worker'),
    encoded: boolean('encoded').notNull().default(true),
    detail: text('detail'),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.mediaId, t.requestId, t.quality, t.chunkIndex] }),
    check('video_chunk_state_check', oneOf(t.state, videoChunkStates)),
  ],
);

/**
 * Every output of a chunked video as its worker reported it (a still, a rung's MP4), or why it failed: the
 * final result is made of these, so a reprocess of a ready media settles as a first build does.
 */
export const videoOutput = pgTable(
  'video_output',
  {
    mediaId: uuid('media_id')
      .notNull()
      .references(() => media.id, { onDelete: 'cascade' }),
    requestId: uuid('request_id').notNull(),
    quality: text('quality').notNull(),
    output: jsonb('output').$type<ProcessedObject>(),
    failure: text('failure'),
  },
  (t) => [primaryKey({ columns: [t.mediaId, t.requestId, t.quality] })],
);
