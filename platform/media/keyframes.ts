import { type FfmpegToolOptions, ffprobePathFor, runProcess } from './run-ffmpeg.ts';
import { isRemote, URL_READS } from './url-reads.ts';

/** Where a video stream's keyframes fall over its first seconds, on the file's timeline (0 = its start). */
export interface KeyframeSample {
  /** Times of the keyframes shown, ascending (one an edit list hides, before 0, is left out). */
  times: number[];
  /** The longest gap between two keyframes seen (or from 0 to the first, or the last to the sample's end). */
  maxIntervalSeconds: number;
  /** The time of the last packet sampled: how far the sample reaches. */
  sampledSeconds: number;
  /** The sample ends before the stream does: what holds beyond it is extrapolated. */
  partial: boolean;
}

/**
 * Reads packet timestamps and flags over the first `windowSeconds` of the main video stream (`V` skips
 * cover art): the demuxer only, no decoding, so it costs a fraction of a second whatever the codec.
 */
export async function probeKeyframes(
  input: string,
  windowSeconds: number,
  options: FfmpegToolOptions,
): Promise<KeyframeSample | undefined> {
  let csv = '';
  const reads = isRemote(input) ? URL_READS : [];
  const args = ['-v', 'error', ...reads, '-select_streams', 'V:0', '-read_intervals', `%+${windowSeconds}`];
  const entries = ['-show_entries', 'packet=pts_time,flags:format=start_time', '-of', 'csv'];
  await runProcess(ffprobePathFor(options), [...args, ...entries, input], {
    ...options,
    onStdout: (chunk) => (csv += chunk),
  });
  return keyframeSample(csv, windowSeconds);
}

/**
 * Pure: ffprobe's `packet,<pts>,<flags>` lines (`packet,1.5,K__`) and `format,<start_time>` to the sample;
 * undefined without packets. Times count from the file's start, where players and ffmpeg's own outputs
 * start: a video that starts after the audio, or whose first frame shown is not a keyframe (an edit list
 * starting mid-GOP: its packets before 0 are decoded, not shown), has no keyframe at 0.
 */
export function keyframeSample(csv: string, windowSeconds: number): KeyframeSample | undefined {
  const rows = csv.split('\n').map((line) => line.trim().split(','));
  const packets = rows
    .filter(([section, time]) => section === 'packet' && time !== '' && Number.isFinite(Number(time)))
    .map(([, time, flags = '']) => ({ time: Number(time), key: flags.startsWith('K') }))
    .sort((a, b) => a.time - b.time);
  const first = packets[0];
  const last = packets.at(-1);
  if (!first || !last) return undefined;
  const start = Number(rows.find(([section]) => section === 'format')?.[1]);
  const origin = Number.isFinite(start) ? start : first.time;
  const times = packets
    .filter((packet) => packet.key && packet.time >= origin - 0.0005)
    .map((packet) => round6(packet.time - origin));
  const sampledSeconds = round6(last.time - origin);
  const gaps = [...times, sampledSeconds].map((time, i, all) => time - (i === 0 ? 0 : (all[i - 1] ?? 0)));
  return {
    times,
    maxIntervalSeconds: round6(Math.max(...gaps)),
    sampledSeconds,
    // ffprobe stops at the first packet past the window, so a sample that reaches it was cut short.
    partial: last.time - first.time >= windowSeconds - 0.001,
  };
}

/**
 * Whether segments cut every `gridSeconds` from a copy of this stream start where an encode that forces
 * a keyframe at the first frame at or after each multiple of `gridSeconds` starts them: a keyframe at 0,
 * the first frame shown, and one within one frame after every multiple up to `durationSeconds`. Past a partial sample the keyframes must be
 * periodic (every gap the same within a frame) and are extrapolated, so a 1.001 s GOP at 29.97 fps, which
 * drifts off a 6 s grid after half a minute, is caught even when the sample ends first.
 */
export function keyframesOnGrid(
  sample: KeyframeSample,
  grid: { gridSeconds: number; frameSeconds: number; durationSeconds: number | undefined },
): boolean {
  const slack = grid.frameSeconds - 0.001;
  // Segments start at 0 too: a copy that starts later than its file (or mid-GOP) cannot cut there.
  if (Math.abs(sample.times[0] ?? Number.POSITIVE_INFINITY) > 0.001) return false;
  let times = sample.times;
  let end = sample.sampledSeconds;
  if (sample.partial) {
    const gaps = times.slice(1).map((time, i) => time - (times[i] ?? 0));
    const first = gaps[0];
    const start = times[0];
    if (first === undefined || start === undefined || grid.durationSeconds === undefined) return false;
    if (!gaps.every((gap) => Math.abs(gap - first) < slack)) return false;
    const period = ((times.at(-1) ?? start) - start) / gaps.length;
    end = grid.durationSeconds;
    // One past the end: the last cut may fall on a keyframe just after the stream's nominal end.
    times = Array.from({ length: Math.floor((end - start) / period) + 2 }, (_, n) => start + n * period);
  }
  let next = 0;
  for (let at = grid.gridSeconds; at <= end; at += grid.gridSeconds) {
    while ((times[next] ?? Number.POSITIVE_INFINITY) < at - 0.001) next++;
    if ((times[next] ?? Number.POSITIVE_INFINITY) >= at + slack) return false;
  }
  return true;
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
