import { isRemote, REMOTE_READS } from '../../../platform/media/probe.ts';
import { type FfmpegToolOptions, ffprobePathFor, runProcess } from '../../../platform/media/run-ffmpeg.ts';

/** One chunk of a source video: `[startSeconds, endSeconds)` on the source's timeline (from its start). */
export interface ChunkSpan {
  index: number;
  startSeconds: number;
  endSeconds: number;
}

// A chunk shorter than this share of the target costs more in process start-up than it saves.
const SHORTEST = 0.5;
// Past this share of the target a chunk delays the next checkpoint too long, when keyframes allow better.
const LONGEST = 2;

/**
 * Pure: cuts `[0, durationSeconds)` into consecutive spans of about `targetSeconds`, no gap, no overlap.
 * With the source's keyframe times each cut is the keyframe closest to the next multiple of the target
 * among those that keep the chunk between half and twice the target (a cut a stream copy can make too);
 * when none does, the first keyframe past half the target. Without keyframes, a fixed grid (the encode
 * seeks accurately). Only the last chunk may be shorter than half the target.
 */
export function planChunks(
  input: { durationSeconds: number; keyframeSeconds?: readonly number[] },
  targetSeconds: number,
): ChunkSpan[] {
  const duration = input.durationSeconds;
  if (!(duration > 0) || !Number.isFinite(duration)) return [];
  if (!(targetSeconds > 0)) throw new RangeError(`a chunk target must be positive, not ${targetSeconds}`);
  const keyframes = [...new Set(input.keyframeSeconds ?? [])]
    .filter((time) => Number.isFinite(time) && time > 0 && time < duration)
    .sort((a, b) => a - b);
  const cuts: number[] = [];
  let at = 0;
  for (;;) {
    const cut = input.keyframeSeconds ? keyframeCut(keyframes, at, targetSeconds, duration) : undefined;
    const next = input.keyframeSeconds ? cut : at + targetSeconds;
    // The rest would be the last chunk anyway, or a tail too short to stand alone.
    if (next === undefined || next > duration - targetSeconds * SHORTEST) break;
    cuts.push(round6(next));
    at = next;
  }
  const bounds = [0, ...cuts, duration];
  return cuts.concat(duration).map((end, index) => ({
    index,
    startSeconds: bounds[index] ?? 0,
    endSeconds: end,
  }));
}

function keyframeCut(
  keyframes: readonly number[],
  at: number,
  target: number,
  duration: number,
): number | undefined {
  if (duration - at <= target * (1 + SHORTEST)) return undefined;
  const later = keyframes.filter((time) => time >= at + target * SHORTEST - 1e-6);
  const fitting = later.filter((time) => time <= at + target * LONGEST + 1e-6);
  if (fitting.length === 0) return later[0];
  const ideal = at + target;
  return fitting.reduce((best, time) => (Math.abs(time - ideal) < Math.abs(best - ideal) ? time : best));
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * Every video keyframe's presentation time in seconds from the file's start (the timeline `-ss` seeks
 * on), ascending: packet flags from the demuxer alone, nothing decoded.
 */
export async function probeKeyframeTimes(input: string, options: FfmpegToolOptions): Promise<number[]> {
  let csv = '';
  const reads = isRemote(input) ? REMOTE_READS : [];
  const entries = ['-show_entries', 'packet=pts_time,flags:format=start_time', '-of', 'csv'];
  await runProcess(
    ffprobePathFor(options),
    ['-v', 'error', ...reads, '-select_streams', 'v:0', ...entries, input],
    {
      ...options,
      onStdout: (chunk) => (csv += chunk),
    },
  );
  return keyframeTimes(csv);
}

/** Pure: `packet,<pts>,<flags>` and `format,<start_time>` lines to keyframe times from the start. */
export function keyframeTimes(csv: string): number[] {
  const rows = csv.split('\n').map((line) => line.trim().split(','));
  const start = Number(rows.find(([section]) => section === 'format')?.[1]);
  const origin = Number.isFinite(start) ? start : 0;
  const times = rows
    .filter(([section, time, flags]) => section === 'packet' && flags?.startsWith('K') && time !== 'N/A')
    .map(([, time]) => Number(time))
    .filter(Number.isFinite)
    .map((time) => round6(Math.max(0, time - origin)));
  return [...new Set(times)].sort((a, b) => a - b);
}
