import { keyframesOnGrid } from '../../platform/media/keyframes.ts';
import { DEFAULT_VIDEO_LADDER, parseVideoLadder, type VideoRung } from '../../platform/media/ladder.ts';
import type { AudioStreamInfo, MediaProbe, VideoStreamInfo } from '../../platform/media/probe.ts';
import { SEGMENT_SECONDS } from '../ffmpeg/hls.ts';
import { MediaInputError } from '../ffmpeg/media-input-error.ts';
import { type Size, scaledTo } from '../ffmpeg/sizes.ts';

/** The names parseVideoLadder gives: the three historical ones, or the height's label. */
export type RungName = 'low' | 'medium' | 'high' | `${number}p`;

export interface RungSpec {
  quality: RungName;
  /** Short side in pixels: 360 means 640×360 landscape or 360×640 portrait. */
  height: number;
  videoBitrate: number;
  /** What the rung spends on audio at most; never more than a lossy source has (see audioArgs). */
  audioBitrate: number;
}

/** Audio follows the picture: small rungs are watched on small speakers over thin networks. */
function audioBitrateFor(height: number): number {
  if (height <= 360) return 64_000;
  if (height <= 480) return 96_000;
  if (height <= 720) return 128_000;
  return 192_000;
}

export function rungsOf(ladder: readonly VideoRung[]): RungSpec[] {
  return ladder.map((rung) => ({
    quality: rung.quality as RungName,
    height: rung.height,
    videoBitrate: rung.videoKbps * 1000,
    audioBitrate: audioBitrateFor(rung.height),
  }));
}

export const defaultVideoLadder: readonly RungSpec[] = rungsOf(parseVideoLadder(DEFAULT_VIDEO_LADDER));

export interface VideoPlanOptions {
  ladder?: readonly RungSpec[];
  /** libx264 preset; `veryfast` trades a little size for a lot of worker time. */
  preset?: string;
  maxFrameRate?: number;
  /** A web-ready source at a rung's exact size is copied when its bitrate is at most this × the rung's. */
  remuxMaxBitrateRatio?: number;
  /** 3..5 */
  thumbnailCount?: number;
  thumbnailShortSide?: number;
}

export interface PlannedRendition extends Size {
  quality: RungName;
  mode: 'remux' | 'transcode';
  /** ffmpeg arguments between the input and the output path. */
  outputArgs: string[];
}

export interface StillPlan extends Size {
  atSeconds: number;
}

export interface VideoPlan {
  durationSeconds?: number;
  /** Smallest first: the order that makes something playable soonest. */
  renditions: PlannedRendition[];
  poster: StillPlan;
  thumbnails: Size & { atSeconds: number[] };
}

// Divides the 6 s HLS segment, so every rendition can be cut at the same instants.
const KEYFRAME_SECONDS = 2;
// A source this good is worth the most AAC gives a listener; anything less is kept, never inflated.
const RICH_AUDIO_BITRATE = 256_000;
const TOP_AUDIO_BITRATE = 320_000;
const FALLBACK_FRAME_RATE = '30';

/** Pure: what to build from a probed video, and the ffmpeg arguments for each rendition. */
export function planVideo(probe: MediaProbe, options: VideoPlanOptions = {}): VideoPlan {
  const video = probe.video;
  if (!video) throw new MediaInputError('media_undecodable', 'the file has no video stream');
  const display = { width: video.displayWidth, height: video.displayHeight };
  const shortSide = Math.min(display.width, display.height);
  const ladder = [...(options.ladder ?? defaultVideoLadder)].sort((a, b) => a.height - b.height);
  const lowest = ladder[0];
  if (!lowest) throw new Error('the video ladder is empty');
  const fitting = ladder.filter((rung) => rung.height <= shortSide);
  const rungs: [RungSpec, Size][] = fitting.map((rung) => [rung, scaledTo(display, rung.height)]);
  if (rungs.length === 0) rungs.push([lowest, scaledTo(display, shortSide)]);

  const renditions = rungs.map(([rung, size], i): PlannedRendition => {
    const mode = shouldRemux(probe, video, rung, size, options) ? 'remux' : 'transcode';
    const top = i === rungs.length - 1;
    const outputArgs = mode === 'remux' ? remuxArgs() : transcodeArgs(probe, video, rung, size, top, options);
    return { quality: rung.quality, mode, ...size, outputArgs };
  });
  const top = rungs.at(-1)?.[1] ?? scaledTo(display, shortSide);
  // Stills must land on frames, so they use the video track's length when it is known, and are taken no
  // later than the start of its last frame: a seek past it finds nothing (a one-frame clip, half a second).
  const frames = video.durationSeconds ?? probe.durationSeconds;
  const lastFrameAt = Math.max(0, Math.floor((frames ?? 0) * 1000 - 1000 / (video.frameRate || 30)) / 1000);
  return {
    ...(probe.durationSeconds !== undefined ? { durationSeconds: probe.durationSeconds } : {}),
    renditions,
    poster: { atSeconds: Math.min(posterTime(frames), lastFrameAt), ...top },
    thumbnails: {
      atSeconds: thumbnailTimes(frames, options.thumbnailCount ?? 3).map((at) => Math.min(at, lastFrameAt)),
      ...scaledTo(display, Math.min(shortSide, options.thumbnailShortSide ?? 180)),
    },
  };
}

// `V` skips attached pictures; metadata goes because phones put the recording location there.
const STREAMS_AND_METADATA = ['-map', '0:V:0', '-map_metadata', '-1', '-map_chapters', '-1', '-sn', '-dn'];

/** Copies the first video and audio streams into a faststart MP4, dropping metadata (GPS) and extras. */
export function remuxArgs(): string[] {
  return [...STREAMS_AND_METADATA, '-map', '0:a:0?', '-c', 'copy', '-movflags', '+faststart', '-f', 'mp4'];
}

function transcodeArgs(
  probe: MediaProbe,
  video: VideoStreamInfo,
  rung: RungSpec,
  size: Size,
  top: boolean,
  options: VideoPlanOptions,
): string[] {
  return [
    ...STREAMS_AND_METADATA,
    // ffmpeg has already turned the frames upright (autorotate) and does not copy the display
    // matrix when it encodes, so the output is plain portrait and never rotated twice.
    ...['-vf', `scale=${size.width}:${size.height},setsar=1`],
    ...['-fps_mode', 'cfr', '-r', outputFrameRate(video, options.maxFrameRate ?? 60)],
    ...['-c:v', 'libx264', '-preset', options.preset ?? 'veryfast'],
    ...['-profile:v', 'high', '-pix_fmt', 'yuv420p'],
    // Capped at the rung's bitrate so the HLS variant's peak stays near what the ladder promises.
    ...['-b:v', `${rung.videoBitrate}`, '-maxrate', `${rung.videoBitrate}`],
    ...['-bufsize', `${rung.videoBitrate * 2}`],
    // Forced keyframes on a fixed grid and no scene-cut ones, so every rung's segments cut together.
    ...['-force_key_frames', `expr:gte(t,n_forced*${KEYFRAME_SECONDS})`, '-sc_threshold', '0'],
    ...audioArgs(probe.audio, rung, top),
    ...['-movflags', '+faststart', '-f', 'mp4'],
  ];
}

/**
 * The rung's audio: 320 kb/s on the top rung when the source is lossless or at least 256 kb/s; otherwise
 * the rung's bitrate, never above a lossy source's own (a 128 kb/s track is not improved by 192). A
 * stereo AAC source at or under that is copied: re-encoding it would only lose quality.
 */
export function audioArgs(audio: AudioStreamInfo | undefined, rung: RungSpec, top: boolean): string[] {
  if (!audio) return ['-an'];
  const source = audio.lossless ? undefined : audio.bitrate;
  const rich = audio.lossless || (source ?? 0) >= RICH_AUDIO_BITRATE;
  const wanted = top && rich ? TOP_AUDIO_BITRATE : rung.audioBitrate;
  const stereo = (audio.channels ?? 2) <= 2;
  if (
    audio.codec === 'aac' &&
    source !== undefined &&
    source <= wanted &&
    stereo &&
    (audio.sampleRate ?? 0) <= 48_000
  )
    return ['-map', '0:a:0', '-c:a', 'copy'];
  const bitrate = Math.min(wanted, source ?? wanted);
  return [
    ...['-map', '0:a:0', '-c:a', 'aac', '-b:a', String(Math.round(bitrate / 1000) * 1000)],
    ...(stereo ? [] : ['-ac', '2']),
    ...((audio.sampleRate ?? 0) > 48_000 ? ['-ar', '48000'] : []),
  ];
}

/**
 * Copying beats re-encoding when browsers already play the source and nothing else would change:
 * H.264 8-bit 4:2:0 with AAC (or silence) in MP4/MOV, evenly timed, already at the rung's size, not far
 * above its bitrate (a 17 Mbps phone file would make a poor "high"), and with keyframes where the encoded
 * rungs have theirs, so its HLS segments cut at the same instants.
 */
function shouldRemux(
  probe: MediaProbe,
  video: VideoStreamInfo,
  rung: RungSpec,
  size: Size,
  options: VideoPlanOptions,
): boolean {
  const sourceBitrate =
    video.bitrate ?? (probe.bitrate !== undefined ? probe.bitrate - (probe.audio?.bitrate ?? 0) : undefined);
  return (
    (probe.container === 'mp4' || probe.container === 'mov') &&
    video.codec === 'h264' &&
    (video.pixelFormat === 'yuv420p' || video.pixelFormat === 'yuvj420p') &&
    (!probe.audio || probe.audio.codec === 'aac') &&
    !video.variableFrameRate &&
    (video.frameRate ?? Number.POSITIVE_INFINITY) <= (options.maxFrameRate ?? 60) &&
    size.width === video.displayWidth &&
    size.height === video.displayHeight &&
    // Square pixels: some players ignore the aspect ratio a copied stream carries.
    video.displayWidth * video.displayHeight === video.width * video.height &&
    sourceBitrate !== undefined &&
    sourceBitrate <= rung.videoBitrate * (options.remuxMaxBitrateRatio ?? 2) &&
    video.keyframes !== undefined &&
    keyframesOnGrid(video.keyframes, {
      gridSeconds: SEGMENT_SECONDS,
      frameSeconds: 1 / (video.frameRate ?? 30),
      durationSeconds: video.durationSeconds ?? probe.durationSeconds,
    })
  );
}

/**
 * Constant output rate: the source's base rate when it is a plausible one (keeps 30000/1001 exact),
 * else its average rounded — variable-rate phone files often claim a base rate of 90000 or 120.
 */
export function outputFrameRate(video: VideoStreamInfo, maxFrameRate: number): string {
  const base = video.baseFrameRate;
  const [numerator = 0, denominator = 1] = (base ?? '').split('/').map(Number);
  if (base && numerator / denominator >= 1 && numerator / denominator <= maxFrameRate) return base;
  if (video.frameRate && video.frameRate >= 1)
    return String(Math.min(Math.round(video.frameRate), maxFrameRate));
  return FALLBACK_FRAME_RATE;
}

/** 1 s in, past fade-ins and black leaders; 10% into clips under 10 s so short ones still get a frame. */
export function posterTime(durationSeconds: number | undefined): number {
  if (durationSeconds === undefined) return 0;
  return durationSeconds < 10 ? round3(durationSeconds * 0.1) : 1;
}

/** Evenly spaced over the middle 90%: the first and last 5% are usually titles, fades or black. */
export function thumbnailTimes(durationSeconds: number | undefined, count: number): number[] {
  if (durationSeconds === undefined) return [];
  const n = Math.min(5, Math.max(3, Math.round(count)));
  return Array.from({ length: n }, (_, i) => round3(durationSeconds * (0.05 + (0.9 * i) / (n - 1))));
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
