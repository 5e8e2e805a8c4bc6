import { eq, sql } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { uploadSession } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { loadSession } from './load-session.ts';

/** Aborting frees the parts in storage and retires the media row; aborting twice is harmless. */
export async function abortUpload(ctx: ApiContext, caller: Principal, uploadId: string): Promise<void> {
  const session = await loadSession(ctx, caller, uploadId);
  if (session.state === 'aborted') return;
  if (session.state === 'completed')
    throw new AppError('upload_not_open', 'The upload was already completed');
  await ctx.storage.abortMultipartUpload(session.objectKey, session.storageUploadId);
  await ctx.db.transaction(async (tx) => {
    await lockGallery(tx, caller.sub);
    await tx
      .update(uploadSession)
      .set({ state: 'aborted', closedAt: sql`now()` })
      .where(eq(uploadSession.id, session.id));
    await transitionMedia(tx, {
      mediaId: session.mediaId,
      from: 'awaiting_upload',
      to: 'deleted',
      actor: caller.sub,
      detail: { reason: 'upload_aborted' },
    });
    await renumberGallery(tx, caller.sub);
  });
}
