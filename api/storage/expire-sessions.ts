import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { queueForDeletion } from '../../db/queries/object-refs.ts';
import { uploadSession } from '../../db/schema.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';

/**
 * Closes upload sessions that expired more than `graceSeconds` ago: storage frees their parts, the session
 * reads `expired`, and the media leaves the gallery as `deleted` (reason `upload_expired`). The grace
 * lets a completion that started just before the deadline finish first. The raw key is queued too, in
 * case a completion assembled the object and crashed before recording it.
 */
export async function expireUploadSessions(
  db: Database,
  storage: ObjectStorage,
  graceSeconds: number,
  limit = 100,
): Promise<number> {
  const due = await db
    .select()
    .from(uploadSession)
    .where(
      and(
        eq(uploadSession.state, 'open'),
        sql`${uploadSession.expiresAt} < now() - make_interval(secs => ${graceSeconds})`,
      ),
    )
    .orderBy(uploadSession.expiresAt)
    .limit(limit);
  let expired = 0;
  for (const session of due) {
    await storage.abortMultipartUpload(session.objectKey, session.storageUploadId);
    const closed = await db.transaction(async (tx) => {
      await lockGallery(tx, session.ownerId);
      const rows = await tx
        .update(uploadSession)
        .set({ state: 'expired', closedAt: sql`now()` })
        .where(and(eq(uploadSession.id, session.id), eq(uploadSession.state, 'open')))
        .returning({ id: uploadSession.id });
      if (rows.length === 0) return false;
      await transitionMedia(tx, {
        mediaId: session.mediaId,
        from: 'awaiting_upload',
        to: 'deleted',
        actor: 'sweeper',
        detail: { reason: 'upload_expired', expiredAt: session.expiresAt.toISOString() },
      });
      await queueForDeletion(tx, [session.objectKey]);
      await renumberGallery(tx, session.ownerId);
      return true;
    });
    if (closed) expired += 1;
  }
  return expired;
}
