import { eq, sql } from 'drizzle-orm';
import type { DeletedBy, LifecycleVariant, RejectedBy } from '../../contracts/lifecycle.ts';
import type { MediaStatus } from '../../contracts/media.ts';
import type { Queryable } from '../client.ts';
import { media, mediaEvent } from '../schema.ts';
import { announce, type LifecycleDraft, reasonOf, subjectOf } from './lifecycle.ts';

type MediaRow = typeof media.$inferSelect;
type MediaPatch = Partial<Omit<MediaRow, 'id' | 'ownerId' | 'status' | 'createdAt'>>;

/**
 * What the lifecycle event of a move needs beyond the row: a settled status is announced to apps, so the
 * type makes every writer say who rejected or deleted a media, and which renditions a ready one has.
 */
export type Destination =
  | { to: 'awaiting_upload' | 'processing' }
  | { to: 'ready'; variants: LifecycleVariant[] }
  | { to: 'failed' }
  | { to: 'rejected'; by: RejectedBy }
  | { to: 'deleted'; by: DeletedBy };

export type Transition = Destination & {
  mediaId: string;
  from: MediaStatus | MediaStatus[];
  actor: string;
  detail?: Record<string, unknown>;
  patch?: MediaPatch;
};

/**
 * Moves a media from one status to another, records the move in `media_event` and announces a settled
 * status (ready, failed, rejected, deleted) on the lifecycle topic, all in the caller's transaction. Guarded
 * by the expected `from` status: returns undefined, announcing nothing, when the media was elsewhere, so
 * concurrent actors (a retry, a late result, a delete) cannot overwrite each other's outcome.
 */
export async function transitionMedia(tx: Queryable, t: Transition): Promise<MediaRow | undefined> {
  const from = Array.isArray(t.from) ? t.from : [t.from];
  const detail = t.detail === undefined ? null : JSON.stringify(t.detail);
  // The lock and the move's record in one round trip: the event is written only when the row is there to lock.
  const locked = await tx.execute<{ status: MediaStatus }>(sql`
    with locked as (
      select status from media where id = ${t.mediaId}::uuid and status = any(${sql.param(from)}::text[])
         for update
    ), recorded as (
      insert into media_event (media_id, from_status, to_status, actor, detail)
      select ${t.mediaId}::uuid, status, ${t.to}, ${t.actor}, ${detail}::jsonb
        from locked
    )
    select status from locked`);
  if (locked.rows.length === 0) return undefined;
  const [row] = await tx
    .update(media)
    .set({ ...t.patch, status: t.to, updatedAt: sql`now()` })
    .where(eq(media.id, t.mediaId))
    .returning();
  const event = row && lifecycleOf(row, t);
  if (event) await announce(tx, [event]);
  return row;
}

function lifecycleOf(row: MediaRow, t: Destination): LifecycleDraft | undefined {
  const subject = subjectOf(row);
  switch (t.to) {
    case 'ready':
      return { type: 'media.ready', data: { ...subject, variants: t.variants } };
    case 'failed':
      return { type: 'media.failed', data: { ...subject, reason: reasonOf(row) } };
    case 'rejected':
      return { type: 'media.rejected', data: { ...subject, reason: reasonOf(row), by: t.by } };
    case 'deleted':
      return { type: 'media.deleted', data: { ...subject, by: t.by } };
    default:
      return undefined;
  }
}

export async function recordCreation(tx: Queryable, mediaId: string, actor: string): Promise<void> {
  await tx.insert(mediaEvent).values({ mediaId, fromStatus: null, toStatus: 'awaiting_upload', actor });
}
