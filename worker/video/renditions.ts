import { join } from 'node:path';
import type { FfmpegProgress, FfmpegToolOptions } from '../../platform/media/run-ffmpeg.ts';
import { encodeFile, type MediaOutput } from '../ffmpeg/outputs.ts';
import type { Size } from '../ffmpeg/sizes.ts';
import { extractStills } from '../ffmpeg/stills.ts';
import { type PlannedRendition, remuxArgs, type StillPlan } from './plan.ts';

/**
 * Builds one planned rendition as a faststart MP4 at `outPath`. The file appears only once complete;
 * on failure, timeout or abort nothing is left behind.
 */
export async function buildRendition(
  input: string,
  outPath: string,
  rendition: PlannedRendition,
  options: FfmpegToolOptions & { durationSeconds?: number } = {},
  onProgress?: (progress: FfmpegProgress) => void,
): Promise<MediaOutput> {
  const bytes = await encodeFile(input, outPath, rendition.outputArgs, { ...options, onProgress });
  return mp4Rendition(rendition, outPath, bytes);
}

/** The output record of a rendition's MP4 file, however it was made. */
export function mp4Rendition(rendition: PlannedRendition, path: string, bytes: number): MediaOutput {
  return {
    quality: rendition.quality,
    format: 'mp4',
    contentType: 'video/mp4',
    path,
    width: rendition.width,
    height: rendition.height,
    bytes,
  };
}

/** Copies the streams into an MP4 with `moov` first, so players start before the download ends. */
export function remuxFaststart(
  input: string,
  outPath: string,
  options: FfmpegToolOptions = {},
): Promise<number> {
  return encodeFile(input, outPath, remuxArgs(), options);
}

export async function buildPoster(
  input: string,
  outPath: string,
  poster: StillPlan,
  options: FfmpegToolOptions = {},
): Promise<MediaOutput> {
  const [output] = await extractStills(
    input,
    [{ quality: 'poster', path: outPath, atSeconds: poster.atSeconds }],
    {
      ...options,
      width: poster.width,
      height: poster.height,
    },
  );
  return output as MediaOutput;
}

/** `thumbnail-1.webp`… in `outDir`, for the user to pick a cover from. */
export function buildThumbnailCandidates(
  input: string,
  outDir: string,
  thumbnails: Size & { atSeconds: readonly number[] },
  options: FfmpegToolOptions = {},
): Promise<MediaOutput[]> {
  const stills = thumbnails.atSeconds.map((atSeconds, i) => ({
    quality: `thumbnail-${i + 1}`,
    path: join(outDir, `thumbnail-${i + 1}.webp`),
    atSeconds,
  }));
  return extractStills(input, stills, { ...options, width: thumbnails.width, height: thumbnails.height });
}
