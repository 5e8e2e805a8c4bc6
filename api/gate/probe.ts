import { execFile } from 'node:child_process';
import ffprobeStatic from 'ffprobe-static';
import sharp from 'sharp';
import { HeifHeaderError, type ReadRange, readHeifHeader } from './heif-header.ts';
import { sniffFamily } from './sniff.ts';

export interface ProbeSummary {
  container: string;
  durationSeconds?: number;
  bitRate?: number;
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

interface FfprobeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  bit_rate?: string;
  tags?: { rotate?: string };
  side_data_list?: { rotation?: number }[];
}

/**
 * ffprobe over a URL: it issues range reads for what it needs (headers, the moov box), so the API never
 * downloads the object. Killed at the timeout.
 */
export function ffprobeUrl(url: string, timeoutMs: number, ffprobePath?: string): Promise<ProbeSummary> {
  // Containers carry codec parameters in their headers (moov, EBML, ID3); a small probe budget stops
  // ffprobe from reading megabytes of packets to confirm them.
  const budget = ['-probesize', '1000000', '-analyzeduration', '1000000'];
  // The URL answers in bounded windows: ffprobe continues past each one by reconnecting at its end.
  const windows = ['-reconnect', '1', '-reconnect_at_eof', '1'];
  const args = [
    '-v',
    'error',
    ...budget,
    ...windows,
    '-print_format',
    'json',
    '-show_format',
    '-show_streams',
    url,
  ];
  return new Promise((resolve, reject) => {
    execFile(
      ffprobePath ?? ffprobeStatic.path,
      args,
      { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error) {
          const reason = error.killed
            ? `probe timed out after ${timeoutMs} ms`
            : stderr.trim().split('\n').pop();
          return reject(new ProbeFailedError(reason || 'ffprobe could not read the media'));
        }
        try {
          resolve(summarise(JSON.parse(stdout)));
        } catch (parseError) {
          reject(new ProbeFailedError(`unreadable probe output: ${String(parseError)}`));
        }
      },
    );
  });
}

function summarise(out: {
  format?: { format_name?: string; duration?: string; bit_rate?: string };
  streams?: FfprobeStream[];
}) {
  const streams = out.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video');
  const audio = streams.find((s) => s.codec_type === 'audio');
  if (!out.format || streams.length === 0) throw new ProbeFailedError('no playable streams');
  const rotation =
    video?.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? num(video?.tags?.rotate);
  return {
    container: out.format.format_name ?? 'unknown',
    durationSeconds: num(out.format.duration),
    bitRate: num(out.format.bit_rate),
    width: video?.width,
    height: video?.height,
    rotation,
    videoCodec: video?.codec_name,
    audioCodec: audio?.codec_name,
    hasAudio: audio !== undefined,
    hasVideo: video !== undefined,
    streams: streams.map((s) => ({
      type: s.codec_type ?? 'unknown',
      codec: s.codec_name ?? 'unknown',
      bitRate: num(s.bit_rate),
    })),
  } satisfies ProbeSummary;
}

function num(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
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
