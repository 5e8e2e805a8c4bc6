import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { MediaProbe } from '../../platform/media/probe.ts';
import type { FfmpegProgress, FfmpegToolOptions } from '../../platform/media/run-ffmpeg.ts';
import { buildHls } from '../ffmpeg/hls.ts';
import { mediaInputErrorFrom } from '../ffmpeg/media-input-error.ts';
import { encodeFile, type MediaOutput } from '../ffmpeg/outputs.ts';
import { ffprobeFile } from '../ffmpeg/probe.ts';
import { type StepEvents, type StepResults, stepRunner } from '../ffmpeg/steps.ts';
import { extractStills } from '../ffmpeg/stills.ts';
import {
  type AudioPlan,
  type AudioPlanOptions,
  type AudioQuality,
  type PlannedAudioRendition,
  planAudio,
} from './plan.ts';

export interface AudioOptions extends FfmpegToolOptions, AudioPlanOptions {}

export type AudioStep = 'poster' | AudioQuality | 'hls';

export interface AudioEvents extends StepEvents<AudioStep> {
  onProgress?: (quality: AudioQuality, progress: FfmpegProgress) => void;
}

export interface AudioResult extends StepResults<AudioStep> {
  probe: MediaProbe;
  plan: AudioPlan;
}

/**
 * Builds the audio derivatives of `input` into `outDir`, publishing each as soon as it exists: the
 * cover art as poster (when the file has one), the M4A renditions smallest first, then audio-only HLS.
 * Failure semantics match processVideo.
 */
export async function processAudio(
  input: string,
  outDir: string,
  options: AudioOptions = {},
  events: AudioEvents = {},
): Promise<AudioResult> {
  const probe = await ffprobeFile(input, options);
  const plan = planAudio(probe, options);
  await mkdir(outDir, { recursive: true });
  const { results, attempt } = stepRunner(events, options.signal);

  const cover = plan.coverArt;
  if (cover) {
    await attempt('poster', () =>
      extractStills(input, [{ quality: 'poster', path: join(outDir, 'poster.webp') }], {
        ...options,
        ...cover,
      }),
    );
  }
  const built: PlannedAudioRendition[] = [];
  for (const rendition of plan.renditions) {
    const ok = await attempt(rendition.quality, () =>
      buildAudioRendition(input, outDir, rendition, plan, options, events.onProgress),
    );
    if (ok) built.push(rendition);
  }
  if (built.length === 0) {
    throw mediaInputErrorFrom(
      results.failures.find((failure) => failure.step !== 'poster')?.error,
      'the audio',
    );
  }
  await attempt('hls', () =>
    buildHls(
      built.map((rendition) => ({
        quality: rendition.quality,
        path: audioRenditionPath(outDir, rendition.quality),
      })),
      join(outDir, 'hls'),
      options,
    ),
  );
  return { probe, plan, ...results };
}

/** Rebuilds one rendition alone, after `onRenditionFailed`. */
export async function retryAudioRendition(
  input: string,
  outDir: string,
  quality: AudioQuality,
  options: AudioOptions = {},
  onProgress?: AudioEvents['onProgress'],
): Promise<MediaOutput> {
  const plan = planAudio(await ffprobeFile(input, options), options);
  const rendition = plan.renditions.find((candidate) => candidate.quality === quality);
  if (!rendition) throw new Error(`the plan for ${input} has no ${quality} rendition`);
  await mkdir(outDir, { recursive: true });
  return buildAudioRendition(input, outDir, rendition, plan, options, onProgress);
}

function audioRenditionPath(outDir: string, quality: AudioQuality): string {
  return join(outDir, `${quality}.m4a`);
}

async function buildAudioRendition(
  input: string,
  outDir: string,
  rendition: PlannedAudioRendition,
  plan: AudioPlan,
  options: AudioOptions,
  onProgress: AudioEvents['onProgress'],
): Promise<MediaOutput> {
  const path = audioRenditionPath(outDir, rendition.quality);
  const bytes = await encodeFile(input, path, rendition.outputArgs, {
    ...options,
    ...(plan.durationSeconds !== undefined ? { durationSeconds: plan.durationSeconds } : {}),
    ...(onProgress
      ? { onProgress: (progress: FfmpegProgress) => onProgress(rendition.quality, progress) }
      : {}),
  });
  return {
    quality: rendition.quality,
    format: 'm4a',
    contentType: 'audio/mp4',
    path,
    width: null,
    height: null,
    bytes,
  };
}
