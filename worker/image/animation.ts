import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import sharp, { type Metadata, type OutputInfo, type Sharp } from 'sharp';
import { FfmpegError, runFfmpeg } from '../../platform/media/run-ffmpeg.ts';
import { settleAll } from '../settle-all.ts';
import { secondsLeft } from './deadline.ts';
import {
  ImageRejectedError,
  rejectionFromDecodeError,
  rejectionFromEncodeError,
  timedOut,
} from './errors.ts';
import type { ImageDerivative, ImageLadder, ImageLadderOptions, ImageQuality } from './ladder.ts';
import { thumbHashOf } from './placeholder.ts';

/**
 * Animated GIF and WebP. Short ones become an animated WebP ladder (`low`, `medium`, `high`) with a still
 * `poster` (first frame, `high` width) and a still square `thumbnail`. A GIF too long or too big to stay
 * an image becomes one short H.264 MP4 (`high`, format `mp4`) plus the same stills, as the social
 * networks do: a 30 s GIF is tens of megabytes where the MP4 is a few hundred kilobytes. An animated WebP
 * over the bounds (ffmpeg cannot decode animated WebP) keeps its first frames up to the bounds.
 */

/** Frames and seconds an animated WebP rung may hold; past them a GIF becomes MP4. */
export const MAX_ANIMATION_FRAMES = 150;
export const MAX_ANIMATION_SECONDS = 10;
/** Decoded frames × pixels a GIF may cost before it goes to MP4 (the libvips frame stack is held whole). */
const MAX_ANIMATION_PIXELS = 40_000_000;
/** The MP4 keeps this much of a long GIF, at most the medium rung's width. */
export const MAX_MP4_SECONDS = 15;
// GIF viewers treat delays under 20 ms as 100 ms (browsers agree), so a zero delay is not zero time.
const MIN_FRAME_DELAY_MS = 20;
const DEFAULT_FRAME_DELAY_MS = 100;

export function isAnimated(header: Metadata): boolean {
  return (header.pages ?? 1) > 1 && (header.format === 'gif' || header.format === 'webp');
}

function frameDelays(header: Metadata): number[] {
  return Array.from({ length: header.pages ?? 1 }, (_, i) => {
    const delay = header.delay?.[i] ?? DEFAULT_FRAME_DELAY_MS;
    return delay < MIN_FRAME_DELAY_MS ? DEFAULT_FRAME_DELAY_MS : delay;
  });
}

/** How many leading frames fit the bounds. */
function framesWithinBounds(delays: number[]): number {
  let elapsed = 0;
  let frames = 0;
  for (const delay of delays) {
    if (frames >= MAX_ANIMATION_FRAMES || elapsed + delay > MAX_ANIMATION_SECONDS * 1000) break;
    elapsed += delay;
    frames += 1;
  }
  return Math.max(1, frames);
}

export async function buildAnimatedLadder(
  inputPath: string,
  header: Metadata,
  outDir: string,
  options: ImageLadderOptions,
  deadline: number,
): Promise<ImageLadder> {
  const width = header.width;
  const height = header.pageHeight ?? header.height;
  const delays = frameDelays(header);
  const kept = framesWithinBounds(delays);
  const tooBig = width * height * delays.length > MAX_ANIMATION_PIXELS;
  const asVideo = header.format === 'gif' && (kept < delays.length || tooBig);
  const seconds = () => secondsLeft(deadline);
  const first = () =>
    sharp(inputPath, { pages: 1, failOn: 'error', limitInputPixels: options.maxInputPixels }).timeout({
      seconds: seconds(),
    });
  const rungWidth = (target: number) => Math.min(target, width);
  const still = async (quality: ImageQuality, pipeline: Sharp) => {
    const path = join(outDir, `${quality}.webp`);
    return derivative(
      quality,
      'webp',
      await pipeline.webp({ quality: options.webpQuality }).toFile(path),
      path,
    );
  };

  const moving: Promise<ImageDerivative[]> = asVideo
    ? shortMp4(inputPath, outDir, rungWidth(options.widths.medium), width, height, options, deadline)
    : settleAll(
        (['low', 'medium', 'high'] as const).map(async (quality) => {
          const path = join(outDir, `${quality}.webp`);
          const info = await sharp(inputPath, {
            animated: true,
            pages: kept,
            failOn: 'error',
            limitInputPixels: options.maxInputPixels,
          })
            .timeout({ seconds: seconds() })
            .resize({ width: rungWidth(options.widths[quality]) })
            .webp({ quality: options.webpQuality, delay: delays.slice(0, kept), loop: header.loop ?? 0 })
            .toFile(path);
          // libvips reports the whole frame stack's height; clients want one frame's.
          const frameHeight = Math.max(1, Math.round((height * info.width) / width));
          return { ...derivative(quality, 'webp', info, path), height: frameHeight };
        }),
      );
  const side = Math.min(options.thumbnailSize, width, height);
  const outputs = [
    moving,
    still('poster', first().resize({ width: rungWidth(options.widths.high) })).then((d) => [d]),
    still('thumbnail', first().resize(side, side, { fit: 'cover', position: 'attention' })).then((d) => [d]),
  ];
  const placeholder = thumbHashOf(first());
  const settled = await Promise.allSettled([...outputs, placeholder]);
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure) throw classify(failure.reason);
  return {
    derivatives: (await Promise.all(outputs)).flat(),
    placeholder: await placeholder,
    width,
    height,
  };
}

function classify(error: unknown): unknown {
  if (error instanceof ImageRejectedError) return error;
  if (error instanceof FfmpegError) {
    if (error.reason === 'aborted') return error;
    if (error.reason === 'timeout') return timedOut(error);
    return new ImageRejectedError('image_undecodable', `GIF could not be converted: ${error.message}`, {
      cause: error,
    });
  }
  const decode = rejectionFromDecodeError(error);
  return decode instanceof ImageRejectedError ? decode : rejectionFromEncodeError(error);
}

async function shortMp4(
  inputPath: string,
  outDir: string,
  targetWidth: number,
  width: number,
  height: number,
  options: ImageLadderOptions,
  deadline: number,
): Promise<ImageDerivative[]> {
  const path = join(outDir, 'high.mp4');
  // H.264 in 4:2:0 wants even sides.
  const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);
  const outWidth = even(targetWidth);
  const outHeight = even((height * targetWidth) / width);
  await runFfmpeg(
    [
      ...['-hide_banner', '-nostdin', '-y', '-i', inputPath, '-t', String(MAX_MP4_SECONDS), '-an'],
      ...['-vf', `scale=${outWidth}:${outHeight}:flags=lanczos,format=yuv420p`],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-movflags', '+faststart'],
      ...['-map_metadata', '-1', path],
    ],
    { ffmpegPath: options.ffmpegPath, timeoutMs: secondsLeft(deadline) * 1000, signal: options.signal },
  );
  const { size } = await stat(path);
  return [
    {
      quality: 'high',
      format: 'mp4',
      contentType: 'video/mp4',
      width: outWidth,
      height: outHeight,
      bytes: size,
      path,
    },
  ];
}

function derivative(quality: ImageQuality, format: 'webp', info: OutputInfo, path: string): ImageDerivative {
  return {
    quality,
    format,
    contentType: 'image/webp',
    width: info.width,
    height: info.height,
    bytes: info.size,
    path,
  };
}
