import { and, eq, inArray, sql } from 'drizzle-orm';
import type { MediaStatus } from '../../contracts/media.ts';
import type { Queryable } from '../client.ts';
import { media, mediaEvent } from '../schema.ts';

type MediaRow = typeof media.$inferSelect;
type MediaPatch = Partial<Omit<MediaRow, 'id' | 'ownerId' | 'status' | 'createdAt'>>;

export interface Transition {
  mediaId: string;
  from: MediaStatus | MediaStatus[];
  to: MediaStatus;
  actor: string;
  detail?: Record<string, unknown>;
  patch?: MediaPatch;
}

/**
 * Moves a media from one status to another and records the move in `media_event`, in the caller's
 * transaction. Guarded by the expected `from` status: returns undefined when the media was elsewhere, so
 * concurrent actors (a retry, a late result, a delete) cannot overwrite each other's outcome.
 */
export async function transitionMedia(tx: Queryable, t: Transition): Promise<MediaRow | undefined> {
  const from = Array.isArray(t.from) ? t.from : [t.from];
  const [before] = await tx
    .select({ status: media.status })
    .from(media)
    .where(and(eq(media.id, t.mediaId), inArray(media.status, from)))
    .for('update');
  if (!before) return undefined;
  const [row] = await tx
    .update(media)
    .set({ ...t.patch, status: t.to, updatedAt: sql`now()` })
    .where(eq(media.id, t.mediaId))
    .returning();
  await tx.insert(mediaEvent).values({
    mediaId: t.mediaId,
    fromStatus: before.status,
    toStatus: t.to,
    actor: t.actor,
    detail: t.detail,
  });
  return row;
}

export async function recordCreation(tx: Queryable, mediaId: string, actor: string): Promise<void> {
  await tx.insert(mediaEvent).values({ mediaId, fromStatus: null, toStatus: 'awaiting_upload', actor });
}
