import { type KeyframeSample, probeKeyframes } from './keyframes.ts';
import { type FfmpegToolOptions, ffprobePathFor, runProcess } from './run-ffmpeg.ts';
import { isRemote, URL_READS, WINDOW_READS } from './url-reads.ts';

export interface VideoStreamInfo {
  index: number;
  codec: string;
  profile?: string;
  level?: number;
  pixelFormat?: string;
  /** As stored, before rotation. */
  width: number;
  height: number;
  /** Clockwise degrees a player turns the stored frames (an upright phone clip says 90). */
  rotation: 0 | 90 | 180 | 270;
  /** What a viewer sees: rotation and non-square pixels applied. */
  displayWidth: number;
  displayHeight: number;
  /** Average frames per second. */
  frameRate?: number;
  /** ffprobe's `r_frame_rate` as a rational ("30000/1001"): the rate every timestamp fits on. */
  baseFrameRate?: string;
  /** The average and base rates disagree: frames are not evenly spaced. */
  variableFrameRate: boolean;
  bitrate?: number;
  /** The video track alone; the file may run longer (trailing audio). */
  durationSeconds?: number;
  /** Only when asked for (`keyframeWindowSeconds`): where the stream's keyframes fall. */
  keyframes?: KeyframeSample;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  profile?: string;
  sampleRate?: number;
  channels?: number;
  /** The stream's own, else the muxer's `BPS` tag (Matroska); absent when neither says. */
  bitrate?: number;
  /** FLAC, ALAC, PCM…: every bit a lossy rendition could use, whatever the nominal bitrate. */
  lossless?: boolean;
}

export interface CoverArtInfo {
  index: number;
  codec: string;
  width: number;
  height: number;
}

/** The facts the pipelines decide on; absent streams are absent keys. */
export interface MediaProbe {
  /** mp4, mov, m4a, 3gp, webm, matroska, mp3, … */
  container: string;
  durationSeconds?: number;
  bitrate?: number;
  sizeBytes?: number;
  video?: VideoStreamInfo;
  audio?: AudioStreamInfo;
  /** An attached picture (album art, a video's cover), which ffmpeg lists as a one-frame video stream. */
  coverArt?: CoverArtInfo;
  /** Every stream, as listed (data and subtitle tracks too). */
  streams: { type: string; codec: string; bitrate?: number }[];
}

export interface ProbeOptions extends FfmpegToolOptions {
  /**
   * Also sample where keyframes fall over the first this-many seconds (packet flags, nothing decoded):
   * what decides whether a stream can be copied into segments cut on a fixed grid.
   */
  keyframeWindowSeconds?: number;
  /** The input is the gate's range-window server, which answers in bounded windows. */
  windowed?: boolean;
}

// Probing reads headers and a few packets; taking longer than this means a hostile or broken file.
const PROBE_TIMEOUT_MS = 60_000;
// Containers carry codec parameters in their headers (moov, EBML, ID3); over a URL a small budget stops
// ffprobe from reading megabytes of packets to confirm them.
const REMOTE_BUDGET = ['-probesize', '1000000', '-analyzeduration', '1000000'];

/** Thrown when ffprobe ran and found no audio or video stream it could read. */
export class NoMediaStreamsError extends Error {
  override readonly name = 'NoMediaStreamsError';
}

/**
 * Probes a local file or a URL (read by range requests, never downloaded) into the one typed result
 * every role decides on. ffprobe failing rejects with its FfmpegError; a readable file without any
 * audio or video stream rejects with NoMediaStreamsError.
 */
export async function probeMedia(input: string, options: ProbeOptions = {}): Promise<MediaProbe> {
  let json = '';
  const run = { ...options, timeoutMs: Math.min(options.timeoutMs ?? PROBE_TIMEOUT_MS, PROBE_TIMEOUT_MS) };
  const reads = options.windowed ? WINDOW_READS : URL_READS;
  const remote = isRemote(input) ? [...REMOTE_BUDGET, ...reads] : [];
  const args = ['-v', 'error', ...remote, '-print_format', 'json', '-show_format', '-show_streams', input];
  const window = options.keyframeWindowSeconds;
  const [, keyframes] = await Promise.all([
    runProcess(ffprobePathFor(options), args, { ...run, onStdout: (chunk) => (json += chunk) }),
    window ? probeKeyframes(input, window, run) : undefined,
  ]);
  const probe = summarizeProbe(JSON.parse(json) as FfprobeOutput);
  if (!probe.video && !probe.audio) throw new NoMediaStreamsError('no audio or video stream');
  if (probe.video && keyframes) probe.video.keyframes = keyframes;
  return probe;
}

interface FfprobeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  profile?: string;
  level?: number;
  pix_fmt?: string;
  width?: number;
  height?: number;
  sample_aspect_ratio?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  sample_rate?: string;
  channels?: number;
  bit_rate?: string;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

export interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: {
    format_name?: string;
    duration?: string;
    bit_rate?: string;
    size?: string;
    tags?: Record<string, string>;
  };
}

/** Pure: ffprobe's JSON (`-show_format -show_streams`) to the summary. */
export function summarizeProbe(output: FfprobeOutput): MediaProbe {
  const streams = output.streams ?? [];
  const isPicture = (s: FfprobeStream) => s.codec_type === 'video' && s.disposition?.attached_pic === 1;
  const hasPixels = (s: FfprobeStream) => (s.width ?? 0) > 0 && (s.height ?? 0) > 0;
  const video = streams.find((s) => s.codec_type === 'video' && !isPicture(s) && hasPixels(s));
  const audio = streams.find((s) => s.codec_type === 'audio');
  const cover = streams.find((s) => isPicture(s) && hasPixels(s));
  const durations = [output.format?.duration, ...streams.map((s) => s.duration)].map(positive);
  const probe: MediaProbe = {
    container: containerOf(output, streams),
    ...optional('sizeBytes', positive(output.format?.size)),
    ...optional(
      'durationSeconds',
      durations.find((d) => d !== undefined),
    ),
    ...optional('bitrate', positive(output.format?.bit_rate)),
    streams: streams.map((s) => ({
      type: s.codec_type ?? 'unknown',
      codec: s.codec_name ?? 'unknown',
      ...optional('bitrate', positive(s.bit_rate)),
    })),
  };
  if (video) probe.video = videoInfo(video);
  if (audio) {
    probe.audio = {
      index: audio.index,
      codec: audio.codec_name ?? 'unknown',
      ...optional('profile', audio.profile),
      ...optional('sampleRate', positive(audio.sample_rate)),
      ...optional('channels', audio.channels),
      ...optional('bitrate', positive(audio.bit_rate) ?? positive(audio.tags?.BPS)),
      lossless: LOSSLESS.test(audio.codec_name ?? ''),
    };
  }
  if (cover) {
    probe.coverArt = {
      index: cover.index,
      codec: cover.codec_name ?? 'unknown',
      width: cover.width ?? 0,
      height: cover.height ?? 0,
    };
  }
  return probe;
}

function videoInfo(s: FfprobeStream): VideoStreamInfo {
  const width = s.width ?? 0;
  const height = s.height ?? 0;
  const rotation = rotationOf(s);
  const displayWidth = Math.round(width * (ratio(s.sample_aspect_ratio, ':') ?? 1));
  const sideways = rotation === 90 || rotation === 270;
  const average = ratio(s.avg_frame_rate, '/');
  const base = ratio(s.r_frame_rate, '/');
  return {
    index: s.index,
    codec: s.codec_name ?? 'unknown',
    ...optional('profile', s.profile),
    ...optional('level', s.level !== undefined && s.level > 0 ? s.level : undefined),
    ...optional('pixelFormat', s.pix_fmt),
    width,
    height,
    rotation,
    displayWidth: sideways ? height : displayWidth,
    displayHeight: sideways ? displayWidth : height,
    ...optional('frameRate', average ?? base),
    ...optional('baseFrameRate', base !== undefined ? s.r_frame_rate : undefined),
    variableFrameRate: average !== undefined && base !== undefined && Math.abs(average - base) > 0.01,
    ...optional('bitrate', positive(s.bit_rate)),
    ...optional('durationSeconds', positive(s.duration)),
  };
}

/**
 * The display matrix angle is counterclockwise (libavutil's convention); the legacy `rotate` tag, which
 * older muxers and ffprobe builds report instead, is clockwise.
 */
function rotationOf(s: FfprobeStream): VideoStreamInfo['rotation'] {
  const matrix = s.side_data_list?.find(
    (d) => d.side_data_type === 'Display Matrix' && d.rotation !== undefined,
  );
  const clockwise = matrix?.rotation !== undefined ? -matrix.rotation : Number(s.tags?.rotate ?? 0);
  const quarter = Math.round((Number.isFinite(clockwise) ? clockwise : 0) / 90);
  return ((((quarter % 4) + 4) % 4) * 90) as VideoStreamInfo['rotation'];
}

const LOSSLESS = /^(flac|alac|wavpack|ape|tta|mlp|truehd|pcm_.*)$/;

const WEBM_CODECS = new Set(['vp8', 'vp9', 'av1', 'opus', 'vorbis']);

/** ffprobe names format families ("mov,mp4,m4a,…"); the brand or the codecs tell which member it is. */
function containerOf(output: FfprobeOutput, streams: FfprobeStream[]): string {
  const family = output.format?.format_name ?? 'unknown';
  if (family.startsWith('mov,')) {
    const brand = (output.format?.tags?.major_brand ?? '').trim().toLowerCase();
    if (brand === 'qt') return 'mov';
    if (brand === 'm4a' || brand === 'm4b') return 'm4a';
    if (brand.startsWith('3g')) return '3gp';
    return 'mp4';
  }
  if (family === 'matroska,webm') {
    const media = streams.filter((s) => s.codec_type === 'video' || s.codec_type === 'audio');
    const webm = media.every((s) => WEBM_CODECS.has(s.codec_name ?? ''));
    return webm ? 'webm' : 'matroska';
  }
  return family.split(',')[0] ?? family;
}

function ratio(value: string | undefined, separator: string): number | undefined {
  const [numerator, denominator] = (value ?? '').split(separator).map(Number);
  if (!numerator || !denominator || !Number.isFinite(numerator / denominator)) return undefined;
  return numerator / denominator;
}

function positive(value: string | undefined): number | undefined {
  const parsed = Number(value);
  return value !== undefined && Number.isFinite(parsed) && parsed > 0 ? parsed : undefined;
}

/** Spreads `{ key: value }` only when there is a value, so optional fields stay absent, not undefined. */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
