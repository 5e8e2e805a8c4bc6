import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { isModerationOff } from '../../platform/moderation/create-moderator.ts';
import type { ModerationInput, Verdict } from '../../platform/moderation/moderation.ts';
import { FrameSamplingError, sampleFrames } from '../../platform/moderation/sample-frames.ts';
import type { ApiContext } from '../context.ts';
import { ProbeFailedError, type ProbeSummary } from './probe.ts';
import { withRangeWindows } from './range-window-server.ts';
import type { GateSubject } from './run-gate.ts';

/** Vendors judge small images; a 1024 px JPEG keeps the request light and the verdict unchanged. */
const judgedSide = 1024;

/**
 * Asks the moderator about one upload. Images are judged on a downscale of the original, videos on frames
 * sampled by ffmpeg through the same bounded range windows the probe reads by (never an open-ended GET).
 * The content hash that keys the verdict cache is the SHA-256 of the judged bytes, so identical content
 * is judged once whoever uploads it.
 */
export async function moderate(
  ctx: ApiContext,
  mediaId: string,
  subject: GateSubject,
  probe: ProbeSummary,
  firstBytes: Buffer,
): Promise<Verdict | undefined> {
  if (isModerationOff(ctx.moderator) || subject.kind === 'audio') return undefined;
  if (isLongVideo(ctx, subject, probe)) {
    const url = await ctx.storage.presignGet(
      subject.objectKey,
      ctx.config.moderation.async.urlTtlSeconds,
      'public',
    );
    // The upload's own key as the content hash: no other media's cached verdict answers for it.
    const contentHash = `deferred:${subject.objectKey}`;
    return ctx.moderator.judge({ mediaId, kind: 'video', contentHash, images: [], url, deferred: true });
  }
  const ttl = ctx.config.gate.probeUrlTtlSeconds;
  const images =
    subject.kind === 'image'
      ? [{ contentType: 'image/jpeg', bytes: await downscale(ctx, subject, firstBytes) }]
      : await withRangeWindows(ctx.storage, subject.objectKey, subject.declaredSize, (url) =>
          frames(ctx, url, probe),
        );
  const hash = createHash('sha256');
  for (const image of images) hash.update(image.bytes);
  const input: ModerationInput = {
    mediaId,
    kind: subject.kind,
    contentHash: hash.digest('hex'),
    images,
    // The vendor fetches from outside, like a client.
    url: await ctx.storage.presignGet(subject.objectKey, ttl, 'public'),
  };
  return ctx.moderator.judge(input);
}

/**
 * A video long enough for the vendor's asynchronous path (MODERATION_ASYNC_MIN_SECONDS): no frames are
 * sampled, the vendor downloads it from a URL that outlives its queue, and the verdict comes by callback.
 */
function isLongVideo(ctx: ApiContext, subject: GateSubject, probe: ProbeSummary): boolean {
  const minSeconds = ctx.config.moderation.async.minSeconds;
  return (
    subject.kind === 'video' &&
    ctx.config.moderation.vendor === 'sightengine' &&
    minSeconds !== undefined &&
    (probe.durationSeconds ?? 0) >= minSeconds
  );
}

/**
 * The probe read only the headers; this is the first full decode. Pixels that cannot be decoded (a
 * truncated or corrupt file) make the media unreadable, a 422, rather than an error of ours. The gate's
 * first read already holds a photo of up to a MiB whole: such a photo is not read twice.
 */
async function downscale(ctx: ApiContext, subject: GateSubject, firstBytes: Buffer): Promise<Buffer> {
  const size = subject.declaredSize;
  const original =
    firstBytes.length === size ? firstBytes : await ctx.storage.readRange(subject.objectKey, 0, size - 1);
  try {
    return await sharp(original, { limitInputPixels: ctx.config.image.maxInputPixels, failOn: 'error' })
      .rotate()
      .resize(judgedSide, judgedSide, { fit: 'inside', withoutEnlargement: true })
      .jpeg({ quality: 85 })
      .toBuffer();
  } catch (error) {
    throw new ProbeFailedError(`the image could not be decoded: ${(error as Error).message}`);
  }
}

/** Frames ffmpeg cannot extract from a video the probe accepted: the media is unreadable, a 422. */
async function frames(ctx: ApiContext, url: string, probe: ProbeSummary): Promise<ModerationInput['images']> {
  try {
    const sampled = await sampleFrames({
      ffmpegPath: ctx.config.ffmpegPath,
      input: url,
      durationSeconds: probe.durationSeconds ?? 0,
      timeoutMs: ctx.config.gate.probeTimeoutMs,
    });
    return sampled.map((f) => ({ contentType: f.contentType, bytes: f.bytes }));
  } catch (error) {
    if (error instanceof FrameSamplingError) throw new ProbeFailedError(error.message);
    throw error;
  }
}
