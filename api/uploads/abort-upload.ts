import { AppError } from '../../contracts/errors.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { queueForDeletion } from '../../db/queries/object-refs.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { completingError, loadSession, type SessionRow } from './load-session.ts';
import { abortSession } from './session-state.ts';

/**
 * Aborting retires the media and frees the parts; aborting twice, or an expired upload, is harmless. The
 * session is closed first (compare-and-set) and storage is told after, so an abort never pulls the parts
 * from under a completion: while one is in flight the abort answers `409 upload_completing`, and once it
 * finished, `409 upload_not_open`.
 */
export async function abortUpload(ctx: ApiContext, caller: Principal, uploadId: string): Promise<void> {
  for (;;) {
    const session = await loadSession(ctx, caller, uploadId);
    if (session.state === 'completed')
      throw new AppError('upload_not_open', 'The upload was already completed');
    const live = session.state === 'open' || session.state === 'completing';
    if (live && !(await closeAborted(ctx, caller, session))) {
      if (session.state === 'completing') throw completingError();
      continue;
    }
    // Also on a repeated abort: a first one whose storage call failed left the parts behind.
    await ctx.storage.abortMultipartUpload(session.objectKey, session.storageUploadId);
    return;
  }
}

async function closeAborted(ctx: ApiContext, caller: Principal, session: SessionRow): Promise<boolean> {
  return ctx.db.transaction(async (tx) => {
    await lockGallery(tx, caller.sub);
    if (!(await abortSession(tx, session.id, ctx.config.uploads.completionLeaseSeconds))) return false;
    await transitionMedia(tx, {
      mediaId: session.mediaId,
      from: 'awaiting_upload',
      to: 'deleted',
      by: 'owner',
      actor: caller.sub,
      detail: { reason: 'upload_aborted' },
    });
    // A completion that crashed may have assembled the object before its claim was taken over here.
    await queueForDeletion(tx, [session.objectKey]);
    await renumberGallery(tx, caller.sub);
    return true;
  });
}
