import {
  bigint,
  boolean,
  check,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { ChunkRendition, ProcessedObject } from '../../contracts/events.ts';
import { createdAt, oneOf } from './columns.ts';
import { media } from './media.ts';

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
