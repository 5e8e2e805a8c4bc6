import { type FfmpegToolOptions, ffprobePathFor, runProcess } from '../../../platform/media/run-ffmpeg.ts';
import { isRemote, URL_READS } from '../../../platform/media/url-reads.ts';

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
 * when none does, the first keyframe past half the target, or with `gridWhenNoKeyframeFits` (every rung
 * encoded: any instant will do) the next multiple. Without keyframes, a fixed grid (the encode seeks
 * accurately). Only the last chunk may be shorter than half the target.
 */
export function planChunks(
  input: {
    durationSeconds: number;
    keyframeSeconds?: readonly number[];
    gridWhenNoKeyframeFits?: boolean;
    /** The first chunk's own target, shorter: a player starts after one segment, so it comes soonest. */
    firstSeconds?: number;
  },
  targetSeconds: number,
): ChunkSpan[] {
  const duration = input.durationSeconds;
  if (!(duration > 0) || !Number.isFinite(duration)) return [];
  if (!(targetSeconds > 0)) throw new RangeError(`a chunk target must be positive, not ${targetSeconds}`);
  const keyframes = [...new Set(input.keyframeSeconds ?? [])]
    .filter((time) => Number.isFinite(time) && time > 0 && time < duration)
    .sort((a, b) => a - b);
  const cuts: number[] = [];
  // A video one chunk long stays whole however short its first chunk could be.
  const long = duration > targetSeconds * (1 + SHORTEST);
  let at = 0;
  for (;;) {
    const aim =
      cuts.length === 0 && long
        ? Math.min(input.firstSeconds ?? targetSeconds, targetSeconds)
        : targetSeconds;
    const cut = input.keyframeSeconds
      ? keyframeCut(keyframes, at, aim, duration, input.gridWhenNoKeyframeFits ?? false)
      : undefined;
    const next = input.keyframeSeconds ? cut : at + aim;
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
  grid: boolean,
): number | undefined {
  if (duration - at <= target * (1 + SHORTEST)) return undefined;
  const later = keyframes.filter((time) => time >= at + target * SHORTEST - 1e-6);
  const fitting = later.filter((time) => time <= at + target * LONGEST + 1e-6);
  if (fitting.length === 0) return grid ? at + target : later[0];
  const ideal = at + target;
  return fitting.reduce((best, time) => (Math.abs(time - ideal) < Math.abs(best - ideal) ? time : best));
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/**
 * Keyframe times of an MP4 or MOV from its index, found by seeking: ffprobe seeks to a keyframe next to
 * each instant of a grid `spacingSeconds` apart and reads that one packet, so a long original over a URL
 * costs a range read per instant where reading every packet's flags reads every byte (460 MB for a
 * 10-minute 1080p file, seconds before the first chunk can start). The grid is shared among a few
 * ffprobe processes at once, each a slice of it, so a long video's plan takes little longer than a short
 * one's. Every time returned is a keyframe's; keyframes closer together than the spacing may be missed,
 * which only moves a cut to a neighbour.
 */
export async function sampleKeyframeTimes(
  input: string,
  durationSeconds: number,
  spacingSeconds: number,
  options: FfmpegToolOptions,
): Promise<number[]> {
  const instants: number[] = [];
  for (let at = 0; at < durationSeconds; at += spacingSeconds) instants.push(round6(at));
  const perProcess = Math.max(SAMPLES_PER_PROCESS, Math.ceil(instants.length / MAX_PROCESSES));
  const slices: number[][] = [];
  for (let i = 0; i < instants.length; i += perProcess) slices.push(instants.slice(i, i + perProcess));
  const csvs = await Promise.all(
    slices.map((slice) =>
      probePackets(
        input,
        [
          ...INDEX_ONLY,
          '-read_intervals',
          slice.map((at) => `${at}%+#1`).join(','),
          '-select_streams',
          'v:0',
        ],
        options,
      ),
    ),
  );
  return [...new Set(csvs.flatMap(keyframeTimes))].sort((a, b) => a - b);
}

// Packet times and flags come from the index: no packets read up front to learn the codecs' parameters
// (by default up to 5 MB and 5 s of them, most of the cost of a short sampling over a URL).
const INDEX_ONLY = ['-probesize', '32', '-analyzeduration', '0'];
// Seeks cost a few ms each over a URL; the processes (each reads the index once) run on idle cores.
const SAMPLES_PER_PROCESS = 20;
const MAX_PROCESSES = 6;

/**
 * Every video keyframe's presentation time in seconds from the file's start (the timeline `-ss` seeks
 * on), ascending: packet flags from the demuxer alone, nothing decoded, but every packet read.
 */
export async function probeKeyframeTimes(input: string, options: FfmpegToolOptions): Promise<number[]> {
  return keyframeTimes(await probePackets(input, ['-select_streams', 'v:0'], options));
}

/** ffprobe's `packet,<pts>,<flags>` and `format,<start_time>` CSV for `input` read as `selection` says. */
async function probePackets(input: string, selection: string[], options: FfmpegToolOptions): Promise<string> {
  let csv = '';
  const reads = isRemote(input) ? URL_READS : [];
  const entries = ['-show_entries', 'packet=pts_time,flags:format=start_time', '-of', 'csv'];
  await runProcess(ffprobePathFor(options), ['-v', 'error', ...reads, ...selection, ...entries, input], {
    ...options,
    onStdout: (chunk) => (csv += chunk),
  });
  return csv;
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
    .map((time) => round6(time - origin))
    // Before 0: a keyframe an edit list hides, no place to cut (span 0 starts at 0 whatever it is).
    .filter((time) => time >= 0);
  return [...new Set(times)].sort((a, b) => a - b);
}
