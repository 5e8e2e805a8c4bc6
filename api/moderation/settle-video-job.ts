import { and, eq } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { announceUpdates } from '../../db/queries/lifecycle.ts';
import { media } from '../../db/schema.ts';
import type { AsyncVideoModeration } from '../../platform/moderation/async-video.ts';
import {
  type CallbackClaim,
  formatJobRef,
  mintNonce,
  parseJobRef,
  type VideoJobRef,
} from '../../platform/moderation/callback-token.ts';
import { ModerationVendorError } from '../../platform/moderation/moderation.ts';
import {
  describeCategories,
  type VideoJob,
  videoVerdict,
} from '../../platform/moderation/sightengine-video.ts';
import type { ApiContext } from '../context.ts';
import { lockContentGalleries, takeDownContent } from './take-down-content.ts';

/** `resubmitted`: the vendor failed the job, so a fresh one was opened (its own nonce and callback URL). */
export type SettleOutcome = 'applied' | 'ignored' | 'pending' | 'resubmitted';

/**
 * Settles a media's Sightengine video job from what the vendor's status endpoint says, never from what a
 * callback claimed: the callback only says when to look. The claim (from a verified callback token, or the
 * re-poll sweep) must name the media's current job — its nonce, and the vendor id when the caller has one
 * — else `409 moderation_job_unknown`. A settled job, or a retired media, is `ignored`, so replays are
 * harmless; an unfinished one stays `pending`.
 */
export async function settleVideoJob(
  ctx: ApiContext,
  video: AsyncVideoModeration,
  claim: CallbackClaim & { vendorMediaId?: string },
): Promise<SettleOutcome> {
  const [row] = await ctx.db.select().from(media).where(eq(media.id, claim.mediaId));
  if (!row) throw new AppError('media_not_found', `No media ${claim.mediaId}`);
  const ref = currentJob(row.moderationJobId, claim);
  if (row.moderationStatus !== 'pending' || row.status === 'deleted' || row.status === 'rejected') {
    return 'ignored';
  }
  const job = await askVendor(video, ref.vendorMediaId);
  if (job.status === 'ongoing') return 'pending';
  if (job.status === 'failure') return resubmit(ctx, video, row, ref, job);
  const verdict = videoVerdict(job, video.thresholds);
  const jobId = formatJobRef(ref);
  return ctx.db.transaction(async (tx) => {
    await lockContentGalleries(tx, row);
    const [locked] = await tx
      .select()
      .from(media)
      .where(and(eq(media.id, row.id), eq(media.moderationJobId, jobId)))
      .for('update');
    const settled = locked?.moderationStatus !== 'pending';
    if (!locked || settled || locked.status === 'deleted' || locked.status === 'rejected') return 'ignored';
    if (verdict?.decision !== 'reject') {
      await tx.update(media).set({ moderationStatus: 'allowed' }).where(eq(media.id, row.id));
      // Visible beyond its owner from now on: apps hear it as an update.
      await announceUpdates(tx, [row.id]);
      return 'applied';
    }
    const categories = describeCategories(verdict.categories);
    await takeDownContent(tx, locked, {
      actor: 'moderation:sightengine',
      detail: { vendorJobId: jobId, frames: job.frames.length, categories: verdict.categories },
      failure: { code: 'moderation_rejected', detail: `rejected for ${categories}` },
    });
    return 'applied';
  });
}

function currentJob(stored: string | null, claim: CallbackClaim & { vendorMediaId?: string }): VideoJobRef {
  const ref = parseJobRef(stored);
  const matches =
    ref !== undefined &&
    ref.nonce === claim.nonce &&
    (claim.vendorMediaId === undefined || claim.vendorMediaId === ref.vendorMediaId);
  if (!ref || !matches) {
    throw new AppError('moderation_job_unknown', `Media ${claim.mediaId} has no such Sightengine job`);
  }
  return ref;
}

/** The vendor down: 503, so its callback is retried and the sweep looks again later. */
async function askVendor(video: AsyncVideoModeration, vendorMediaId: string): Promise<VideoJob> {
  try {
    return await video.client.status(vendorMediaId);
  } catch (error) {
    if (!(error instanceof ModerationVendorError)) throw error;
    throw new AppError('moderation_unavailable', error.message);
  }
}

/** Submissions of one media before a failing vendor is left to an operator. */
export const maxVideoJobAttempts = 3;

/**
 * A job the vendor could not finish (it could not download the video, or failed itself) is opened again
 * with a fresh URL and nonce; the old job's callbacks then answer 409. Guarded by the old job id, so
 * concurrent callers open at most one replacement. After `maxVideoJobAttempts` the media stays pending
 * (its owner's alone) and an error is logged each time it is looked at: the vendor cannot judge it.
 */
async function resubmit(
  ctx: ApiContext,
  video: AsyncVideoModeration,
  row: typeof media.$inferSelect,
  ref: VideoJobRef,
  job: VideoJob,
): Promise<SettleOutcome> {
  if (ref.attempt >= maxVideoJobAttempts) {
    ctx.logger.error(
      { mediaId: row.id, vendorJob: ref.vendorMediaId, vendorError: job.error, attempts: ref.attempt },
      'sightengine failed every video job of this media; it stays pending until an operator acts',
    );
    return 'pending';
  }
  const url = await ctx.storage.presignGet(row.objectKey, video.urlTtlSeconds, 'public');
  const nonce = mintNonce();
  let vendorMediaId: string;
  try {
    vendorMediaId = await video.client.submit(url, video.callbackUrl({ mediaId: row.id, nonce }));
  } catch (error) {
    if (!(error instanceof ModerationVendorError)) throw error;
    throw new AppError('moderation_unavailable', error.message);
  }
  const moved = await ctx.db
    .update(media)
    .set({ moderationJobId: formatJobRef({ vendorMediaId, nonce, attempt: ref.attempt + 1 }) })
    .where(and(eq(media.id, row.id), eq(media.moderationJobId, formatJobRef(ref))))
    .returning({ id: media.id });
  ctx.logger.warn(
    { mediaId: row.id, failedJob: ref.vendorMediaId, vendorError: job.error, replaced: moved.length > 0 },
    'sightengine failed a video job; submitted it again',
  );
  return moved.length > 0 ? 'resubmitted' : 'ignored';
}
