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
  early?: EarlyKeyframes,
): Promise<ChunkSpan[]> {
  const durationSeconds = plan.durationSeconds;
  if (durationSeconds === undefined) return [];
  const copied = plan.renditions.some((rendition) => rendition.mode === 'remux');
  const indexed = isIndexed(probe.container);
  const spacing = targetSeconds / KEYFRAME_SAMPLES_PER_CHUNK;
  // The early sampling covered this duration (the gate's probe said the same) unless it failed.
  const sampled =
    early && Math.abs(early.durationSeconds - durationSeconds) < spacing ? await early.times : undefined;
  const keyframeSeconds = indexed
    ? (sampled ?? (await sampleKeyframeTimes(input, durationSeconds, spacing, options)))
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

/** A keyframe sampling started before the coordinator's own probe, on the gate's word for the source. */
export interface EarlyKeyframes {
  durationSeconds: number;
  /** Undefined when it failed: planSpans samples again. */
  times: Promise<number[] | undefined>;
}

/**
 * Starts sampling the keyframes at once when the gate's probe (the optimize request's `probe`) says the
 * source is an MP4 or MOV of a known length: the seeks then overlap the coordinator's own probe instead of
 * following it, which matters most for a long source (a read per chunk).
 */
export function sampleKeyframesEarly(
  input: string,
  gateProbe: Record<string, unknown>,
  targetSeconds: number,
  options: FfmpegToolOptions,
): EarlyKeyframes | undefined {
  const { durationSeconds, container } = gateProbe;
  if (typeof durationSeconds !== 'number' || !(durationSeconds > 0) || !Number.isFinite(durationSeconds))
    return undefined;
  if (typeof container !== 'string' || !isIndexed(container)) return undefined;
  const spacing = targetSeconds / KEYFRAME_SAMPLES_PER_CHUNK;
  return {
    durationSeconds,
    times: sampleKeyframeTimes(input, durationSeconds, spacing, options).catch(() => undefined),
  };
}

function isIndexed(container: string): boolean {
  return container === 'mp4' || container === 'mov';
}
