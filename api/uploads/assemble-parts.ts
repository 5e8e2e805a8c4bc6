import { AppError } from '../../contracts/errors.ts';
import type { CompleteUploadBody } from '../../contracts/uploads.ts';
import { MultipartRejectedError } from '../../platform/storage/object-storage.ts';
import type { ApiContext } from '../context.ts';
import type { SessionRow } from './load-session.ts';
import { minPartBytes } from './part-plan.ts';

const unquote = (etag: string) => etag.replaceAll('"', '');

/**
 * Joins the parts in storage. The client's ETag list is optional: storage's own list is the truth, and a
 * list that disagrees with it is refused rather than silently corrected.
 */
export async function assembleParts(
  ctx: ApiContext,
  session: SessionRow,
  claimed: CompleteUploadBody['parts'],
): Promise<void> {
  const stored = await ctx.storage.listParts(session.objectKey, session.storageUploadId);
  if (stored === undefined) return alreadyAssembled(ctx, session);
  const byNumber = new Map(stored.map((p) => [p.partNumber, p]));
  for (const part of claimed ?? []) {
    const held = byNumber.get(part.partNumber);
    if (!held) throw new AppError('parts_incomplete', `Storage holds no part ${part.partNumber}`);
    if (unquote(held.etag) !== unquote(part.etag)) {
      throw new AppError(
        'part_etag_mismatch',
        `Part ${part.partNumber} has ETag ${held.etag}, not ${part.etag}`,
      );
    }
  }
  const missing: number[] = [];
  for (let n = 1; n <= session.partCount; n++) if (!byNumber.has(n)) missing.push(n);
  if (missing.length > 0) {
    throw new AppError('parts_incomplete', `Missing part(s) ${missing.slice(0, 20).join(', ')}`);
  }
  const extra = stored.filter((p) => p.partNumber > session.partCount).map((p) => p.partNumber);
  if (extra.length > 0) throw new AppError('validation_failed', `Unexpected part(s) ${extra.join(', ')}`);
  const small = stored.find((p) => p.partNumber < session.partCount && p.size < minPartBytes);
  if (small) throw new AppError('part_too_small', `Part ${small.partNumber} has ${small.size} bytes`);

  try {
    await ctx.storage.completeMultipartUpload(session.objectKey, session.storageUploadId, stored);
  } catch (error) {
    if (!(error instanceof MultipartRejectedError)) throw error;
    if (error.code === 'upload_not_open') return alreadyAssembled(ctx, session);
    throw new AppError(error.code, error.message);
  }
}

/**
 * Storage no longer knows the multipart upload. If the object exists, a completion that crashed before
 * recording, or whose stale claim this one took over, assembled it: carry on to the gate. Otherwise it
 * was aborted.
 */
async function alreadyAssembled(ctx: ApiContext, session: SessionRow): Promise<void> {
  if (await ctx.storage.head(session.objectKey)) return;
  throw new AppError('upload_not_open', 'Storage no longer knows this upload');
}
