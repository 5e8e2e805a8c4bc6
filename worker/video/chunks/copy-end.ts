import { type FfmpegToolOptions, ffprobePathFor, runProcess } from '../../../platform/media/run-ffmpeg.ts';
import { isRemote, URL_READS } from '../../../platform/media/url-reads.ts';

/**
 * How much earlier than its presentation time the keyframe at `atSeconds` (on the file's timeline) comes in
 * decode order: its pts minus its dts, from the index (one seek, one packet read). A stream copy stops at
 * the first packet whose decode time reaches its end, so with B-frames (the keyframe decoded before the
 * frames shown just ahead of it) a copy told to end at that keyframe's time also took the keyframe and the
 * next frame, which the next chunk starts with: ending it this much earlier ends it exactly there.
 * Undefined when no keyframe is at that instant (the end of the file).
 */
export async function keyframeDecodeLead(
  input: string,
  atSeconds: number,
  options: FfmpegToolOptions,
): Promise<number | undefined> {
  let packet = await keyframeNear(input, atSeconds, options);
  // The seek reads the stream's own times: a file that does not start at 0 needs its start added.
  if (packet && packet.start !== 0) packet = await keyframeNear(input, atSeconds + packet.start, options);
  if (!packet?.key || Math.abs(packet.pts - packet.start - atSeconds) > 0.001) return undefined;
  return Math.max(0, packet.pts - packet.dts);
}

interface Packet {
  pts: number;
  dts: number;
  key: boolean;
  /** The file's start time. */
  start: number;
}

async function keyframeNear(
  input: string,
  at: number,
  options: FfmpegToolOptions,
): Promise<Packet | undefined> {
  let csv = '';
  const reads = isRemote(input) ? URL_READS : [];
  await runProcess(
    ffprobePathFor(options),
    [
      ...['-v', 'error', ...reads, '-probesize', '32', '-analyzeduration', '0'],
      ...['-read_intervals', `${Math.round(at * 1e6) / 1e6}%+#1`, '-select_streams', 'V:0'],
      ...['-show_entries', 'packet=pts_time,dts_time,flags:format=start_time', '-of', 'csv', input],
    ],
    { ...options, onStdout: (chunk) => (csv += chunk) },
  );
  const rows = csv.split('\n').map((line) => line.trim().split(','));
  const [, pts, dts, flags = ''] = rows.find(([section]) => section === 'packet') ?? [];
  const start = Number(rows.find(([section]) => section === 'format')?.[1]);
  if (!Number.isFinite(Number(pts)) || !Number.isFinite(Number(dts)) || pts === '' || dts === '')
    return undefined;
  return {
    pts: Number(pts),
    dts: Number(dts),
    key: flags.startsWith('K'),
    start: Number.isFinite(start) ? start : 0,
  };
}
