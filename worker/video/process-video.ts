import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaProbe } from '../../platform/media/probe.ts';
import { FfmpegError, type FfmpegProgress, type FfmpegToolOptions } from '../../platform/media/run-ffmpeg.ts';
import { buildHls } from '../ffmpeg/hls.ts';
import { mediaInputErrorFrom } from '../ffmpeg/media-input-error.ts';
import type { MediaOutput } from '../ffmpeg/outputs.ts';
import { ffprobeFile, KEYFRAME_WINDOW_SECONDS } from '../ffmpeg/probe.ts';
import { type StepEvents, type StepResults, stepRunner } from '../ffmpeg/steps.ts';
import {
  type PlannedRendition,
  planVideo,
  type RungName,
  type VideoPlan,
  type VideoPlanOptions,
} from './plan.ts';
import { buildPoster, buildRendition, buildThumbnailCandidates } from './renditions.ts';

export interface VideoOptions extends FfmpegToolOptions, VideoPlanOptions {}

export type VideoStep = 'poster' | 'thumbnails' | RungName | 'hls';

export interface VideoEvents extends StepEvents<VideoStep> {
  onProgress?: (quality: RungName, progress: FfmpegProgress) => void;
}

export interface VideoResult extends StepResults<VideoStep> {
  probe: MediaProbe;
  plan: VideoPlan;
}

/**
 * Builds every video derivative of `input` into `outDir`, publishing each as soon as it exists: poster,
 * first rendition, thumbnails, the other renditions, HLS. Only a file that cannot be probed, or of
 * which no rendition could be built, throws a MediaInputError; an abort (shutdown) throws at once and
 * leaves the finished outputs in place.
 */
export async function processVideo(
  input: string,
  outDir: string,
  options: VideoOptions = {},
  events: VideoEvents = {},
): Promise<VideoResult> {
  const probe = await ffprobeFile(input, probeOptions(options));
  const plan = planVideo(probe, options);
  await mkdir(outDir, { recursive: true });
  const { results, attempt } = stepRunner(events, options.signal);

  await attempt('poster', () => buildPoster(input, join(outDir, 'poster.webp'), plan.poster, options));
  // Copies take seconds whatever the size, so they go before encodes; then smallest first.
  const renditions = [...plan.renditions].sort(
    (a, b) => Number(a.mode === 'transcode') - Number(b.mode === 'transcode'),
  );
  const built: PlannedRendition[] = [];
  let timedOut: unknown;
  for (const [index, rendition] of renditions.entries()) {
    const ok = await attempt(rendition.quality, () => {
      // A larger encode cannot finish where a smaller one ran out of time: fail it without trying.
      if (timedOut && rendition.mode === 'transcode') throw timedOut;
      return buildVideoRendition(input, outDir, rendition, plan, options, events.onProgress);
    });
    const error = results.failures.at(-1)?.error;
    if (ok) built.push(rendition);
    else if (error instanceof FfmpegError && error.reason === 'timeout') timedOut = error;
    if (index === 0 && plan.thumbnails.atSeconds.length > 0) {
      await attempt('thumbnails', () => buildThumbnailCandidates(input, outDir, plan.thumbnails, options));
    }
  }
  if (built.length === 0) {
    const cause = results.failures.find((failure) => failure.step !== 'poster')?.error;
    throw mediaInputErrorFrom(cause, 'the video');
  }
  const ladderOrder = plan.renditions.filter((rendition) => built.includes(rendition));
  await attempt('hls', () =>
    buildHls(
      ladderOrder.map((rendition) => ({
        quality: rendition.quality,
        path: renditionPath(outDir, rendition.quality),
      })),
      join(outDir, 'hls'),
      options,
    ),
  );
  return { probe, plan, ...results };
}

/**
 * Rebuilds one rendition alone (after `onRenditionFailed`), overwriting nothing else. Rebuild the HLS
 * package afterwards with `buildHls` if it should include the rendition.
 */
export async function retryVideoRendition(
  input: string,
  outDir: string,
  quality: RungName,
  options: VideoOptions = {},
  onProgress?: VideoEvents['onProgress'],
): Promise<MediaOutput> {
  const plan = planVideo(await ffprobeFile(input, probeOptions(options)), options);
  const rendition = plan.renditions.find((candidate) => candidate.quality === quality);
  if (!rendition) throw new Error(`the plan for ${input} has no ${quality} rendition`);
  await mkdir(outDir, { recursive: true });
  return buildVideoRendition(input, outDir, rendition, plan, options, onProgress);
}

/** Where the keyframes fall decides whether a rung may be copied. */
function probeOptions(options: VideoOptions) {
  return { ...options, keyframeWindowSeconds: KEYFRAME_WINDOW_SECONDS };
}

function renditionPath(outDir: string, quality: RungName): string {
  return join(outDir, `${quality}.mp4`);
}

function buildVideoRendition(
  input: string,
  outDir: string,
  rendition: PlannedRendition,
  plan: VideoPlan,
  options: VideoOptions,
  onProgress: VideoEvents['onProgress'],
): Promise<MediaOutput> {
  return buildRendition(
    input,
    renditionPath(outDir, rendition.quality),
    rendition,
    { ...options, ...(plan.durationSeconds !== undefined ? { durationSeconds: plan.durationSeconds } : {}) },
    onProgress && ((progress) => onProgress(rendition.quality, progress)),
  );
}
