import sharp from 'sharp';
import { type MediaProbe, NoMediaStreamsError, probeMedia } from '../../platform/media/probe.ts';
import { FfmpegError } from '../../platform/media/run-ffmpeg.ts';
import { HeifHeaderError, type ReadRange, readHeifHeader } from './heif-header.ts';
import { sniffFamily } from './sniff.ts';

export interface ProbeSummary {
  container: string;
  durationSeconds?: number;
  bitRate?: number;
  /** As coded; `rotation` (clockwise degrees) says how a player turns it. */
  width?: number;
  height?: number;
  rotation?: number;
  videoCodec?: string;
  audioCodec?: string;
  hasAudio: boolean;
  hasVideo: boolean;
  streams: { type: string; codec: string; bitRate?: number }[];
}

export class ProbeFailedError extends Error {}

/**
 * ffprobe over a URL: it issues range reads for what it needs (headers, the moov box), so the API never
 * downloads the object. Killed at the timeout.
 */
export async function ffprobeUrl(
  url: string,
  timeoutMs: number,
  ffprobePath: string | undefined,
): Promise<ProbeSummary> {
  let probe: MediaProbe;
  try {
    probe = await probeMedia(url, { ffprobePath, timeoutMs, windowed: true });
  } catch (error) {
    if (error instanceof NoMediaStreamsError) throw new ProbeFailedError('no playable streams');
    if (!(error instanceof FfmpegError)) throw error;
    const reason =
      error.reason === 'timeout'
        ? `probe timed out after ${timeoutMs} ms`
        : error.stderrTail.split('\n').pop();
    throw new ProbeFailedError(reason || 'ffprobe could not read the media');
  }
  return {
    container: probe.container,
    durationSeconds: probe.durationSeconds,
    bitRate: probe.bitrate,
    width: probe.video?.width,
    height: probe.video?.height,
    rotation: probe.video?.rotation,
    videoCodec: probe.video?.codec,
    audioCodec: probe.audio?.codec,
    hasAudio: probe.audio !== undefined,
    hasVideo: probe.video !== undefined,
    streams: probe.streams.map((s) => ({ type: s.type, codec: s.codec, bitRate: s.bitrate })),
  };
}

/**
 * Image headers sit at the front of the file, so the first bytes are enough to know size and format.
 * Nothing is decoded here, so sharp's own pixel limit is lifted: the gate judges the dimensions against
 * the configured limit and answers `image_too_large`, whatever the size of the bomb. HEIF and AVIF keep
 * their dimensions in a `meta` box that may sit anywhere, and libheif wants every item in reach, so their
 * boxes are walked instead, by range reads past `head` when needed.
 */
export async function probeImageHead(head: Buffer, size: number, read: ReadRange): Promise<ProbeSummary> {
  const family = sniffFamily(head);
  if (family === 'heif' || family === 'avif') return probeHeif(family, head, size, read);
  try {
    const meta = await sharp(head, { failOn: 'none', limitInputPixels: false }).metadata();
    if (!meta.width || !meta.height) throw new ProbeFailedError('the image has no dimensions');
    return {
      container: meta.format ?? 'unknown',
      width: meta.autoOrient?.width ?? meta.width,
      height: meta.autoOrient?.height ?? meta.height,
      hasAudio: false,
      hasVideo: false,
      streams: [{ type: 'image', codec: meta.format ?? 'unknown' }],
    };
  } catch (error) {
    if (error instanceof ProbeFailedError) throw error;
    throw new ProbeFailedError(error instanceof Error ? error.message : String(error));
  }
}

async function probeHeif(
  family: 'heif' | 'avif',
  head: Buffer,
  size: number,
  read: ReadRange,
): Promise<ProbeSummary> {
  try {
    const header = await readHeifHeader(head, size, read);
    if (header.codec === 'other')
      throw new ProbeFailedError(`unsupported ${family} item ${header.primaryType}`);
    return {
      container: family,
      width: header.width,
      height: header.height,
      rotation: header.rotation,
      hasAudio: false,
      hasVideo: false,
      streams: [{ type: 'image', codec: header.codec }],
    };
  } catch (error) {
    if (error instanceof HeifHeaderError) throw new ProbeFailedError(error.message);
    throw error;
  }
}
