import type { Database } from '../../db/client.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { queueForDeletion } from '../../db/queries/object-refs.ts';
import { uploadSession } from '../../db/schema.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import { expireSession, overdue } from '../uploads/session-state.ts';

/**
 * Closes upload sessions that expired more than `graceSeconds` ago, open ones and ones whose completion
 * crashed: the session reads `expired` and the media leaves the gallery as `deleted` (reason
 * `upload_expired`). Each session is closed by compare-and-set before storage frees its parts, so a
 * completion that claimed it in time is never pulled from under. The raw key is queued too, in case a
 * completion assembled the object and crashed before recording it.
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
    .where(overdue(graceSeconds))
    .orderBy(uploadSession.expiresAt)
    .limit(limit);
  let expired = 0;
  for (const session of due) {
    const closed = await db.transaction(async (tx) => {
      await lockGallery(tx, session.ownerId);
      if (!(await expireSession(tx, session.id, graceSeconds))) return false;
      await transitionMedia(tx, {
        mediaId: session.mediaId,
        from: 'awaiting_upload',
        to: 'deleted',
        by: 'expiry',
        actor: 'sweeper',
        detail: { reason: 'upload_expired', expiredAt: session.expiresAt.toISOString() },
      });
      await queueForDeletion(tx, [session.objectKey]);
      await renumberGallery(tx, session.ownerId);
      return true;
    });
    if (!closed) continue;
    expired += 1;
    // A failure here stops this pass; the parts it leaves go with the bucket's abandoned-upload rule.
    await storage.abortMultipartUpload(session.objectKey, session.storageUploadId);
  }
  return expired;
}
