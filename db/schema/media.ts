import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { mediaStatuses } from '../../contracts/media.ts';
import { mediaKinds } from '../../contracts/media-types.ts';
import { createdAt, oneOf } from './columns.ts';

const sessionStates = ['open', 'completing', 'completed', 'aborted', 'expired'] as const;
const visibilities = ['private', 'public'] as const;

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
