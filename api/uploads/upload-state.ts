import { eq } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import type { UploadState } from '../../contracts/uploads.ts';
import { media } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { isExpired, loadSession, requireOpen } from './load-session.ts';
import { presignParts } from './presign-parts.ts';

/** What a resuming client needs: which parts storage already holds, so it sends only the rest. */
export async function getUploadState(
  ctx: ApiContext,
  caller: Principal,
  uploadId: string,
): Promise<UploadState> {
  const session = await loadSession(ctx, caller, uploadId);
  // Storage forgets the parts once a completion in flight assembled them: none are listed then.
  const uploadedParts =
    session.state === 'open' || session.state === 'completing'
      ? ((await ctx.storage.listParts(session.objectKey, session.storageUploadId)) ?? [])
      : [];
  return {
    uploadId: session.id,
    mediaId: session.mediaId,
    state: isExpired(session) ? 'expired' : session.state,
    partSize: session.partSize,
    partCount: session.partCount,
    expiresAt: session.expiresAt.toISOString(),
    uploadedParts,
  };
}

export async function refreshPartUrls(
  ctx: ApiContext,
  caller: Principal,
  uploadId: string,
  partNumbers: number[],
) {
  const session = await loadSession(ctx, caller, uploadId);
  requireOpen(session);
  const outside = partNumbers.filter((n) => n > session.partCount);
  if (outside.length > 0) {
    throw new AppError(
      'validation_failed',
      `The upload has ${session.partCount} parts; asked for ${outside.join(', ')}`,
    );
  }
  // Each URL is signed for its part's length, which follows from the declared size on the media row.
  const [declared] = await ctx.db
    .select({ sizeBytes: media.sizeBytes })
    .from(media)
    .where(eq(media.id, session.mediaId));
  if (!declared) throw new AppError('upload_not_found', `No upload ${uploadId}`);
  return presignParts(ctx, { ...session, sizeBytes: declared.sizeBytes }, [...new Set(partNumbers)]);
}
