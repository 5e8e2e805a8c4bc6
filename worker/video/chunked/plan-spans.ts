import type { MediaProbe } from '../../../platform/media/probe.ts';
import type { FfmpegToolOptions } from '../../../platform/media/run-ffmpeg.ts';
import {
  type ChunkSpan,
  planChunks,
  probeKeyframeTimes,
  sampleKeyframeTimes,
} from '../chunks/plan-chunks.ts';
import type { VideoPlan } from '../plan.ts';
import { FIRST_CHUNK_SECONDS } from './precedence.ts';

/** Keyframes looked for per chunk length: one next to each wanted cut. */
const KEYFRAME_SAMPLES_PER_CHUNK = 1;

/**
 * The chunks of a planned video (`input` a path or URL), the first one short. A copied rung must cut at
 * source keyframes. An encoded one may cut anywhere, but an accurate seek decodes from the keyframe
 * before the cut and throws those frames away: with 8 s GOPs that is most of a chunk's decode again, so
 * encoded rungs cut at keyframes too where one lies near the wanted cut. An MP4's keyframes come from its
 * index at the cost of a read per chunk; other containers' only by reading every packet (the whole
 * file), which only a copied rung is worth.
 */
export async function planSpans(
  input: string,
  probe: MediaProbe,
  plan: VideoPlan,
  targetSeconds: number,
  options: FfmpegToolOptions,
): Promise<ChunkSpan[]> {
  const durationSeconds = plan.durationSeconds;
  if (durationSeconds === undefined) return [];
  const copied = plan.renditions.some((rendition) => rendition.mode === 'remux');
  const indexed = probe.container === 'mp4' || probe.container === 'mov';
  const spacing = targetSeconds / KEYFRAME_SAMPLES_PER_CHUNK;
  const keyframeSeconds = indexed
    ? await sampleKeyframeTimes(input, durationSeconds, spacing, options)
    : copied
      ? await probeKeyframeTimes(input, options)
      : undefined;
  return planChunks(
    {
      durationSeconds,
      firstSeconds: FIRST_CHUNK_SECONDS,
      ...(keyframeSeconds ? { keyframeSeconds, gridWhenNoKeyframeFits: !copied } : {}),
    },
    targetSeconds,
  );
}
