import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readVideoMatrix, writeVideoMatrix } from '../../platform/media/display-matrix.ts';
import type { MediaProbe } from '../../platform/media/probe.ts';
import { type FfmpegToolOptions, runFfmpeg } from '../../platform/media/run-ffmpeg.ts';
import { settleAll } from '../settle-all.ts';
import { type MediaOutput, type OutputFile, writeAtomically } from './outputs.ts';
import { ffprobeFile } from './probe.ts';

// Apple's recommendation. Encoded renditions put a keyframe every 2 s and a copy is planned only when the
// source's keyframes fall on this grid (worker/video/plan.ts), so all variants cut at the same instants.
export const SEGMENT_SECONDS = 6;

export interface HlsSource {
  quality: string;
  /** A finished MP4/M4A rendition; segmenting copies it, never re-encodes. */
  path: string;
}

/**
 * Segments finished renditions into a VOD HLS package at `outDir`: `master.m3u8` plus one
 * `<quality>/index.m3u8` with fMP4 segments each. fMP4 rather than MPEG-TS: less overhead at low
 * bitrates, and the same segments suit DASH later. The master's BANDWIDTH is the peak segment
 * bitrate measured on the segments written, as the HLS spec defines it, not the encoder's target.
 */
export async function buildHls(
  sources: readonly HlsSource[],
  outDir: string,
  options: FfmpegToolOptions = {},
): Promise<MediaOutput> {
  let variants: Variant[] = [];
  // A rebuild (after retrying a rendition) replaces the whole package.
  await rm(outDir, { recursive: true, force: true });
  await writeAtomically([outDir], async ([dir = '']) => {
    await rm(dir, { recursive: true, force: true }); // left by a killed worker
    await mkdir(dir);
    variants = [];
    for (const source of sources) variants.push(await segment(source, dir, options));
    variants.sort((a, b) => a.bandwidth - b.bandwidth);
    await writeFile(join(dir, 'master.m3u8'), masterPlaylist(variants));
  });
  const files = await listFiles(outDir);
  const top = variants.at(-1)?.probe.video;
  return {
    quality: 'hls',
    format: 'm3u8',
    contentType: HLS_CONTENT_TYPES.m3u8,
    path: join(outDir, 'master.m3u8'),
    files,
    width: top?.displayWidth ?? null,
    height: top?.displayHeight ?? null,
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
  };
}

interface Variant {
  uri: string;
  probe: MediaProbe;
  bandwidth: number;
  averageBandwidth: number;
}

async function segment(source: HlsSource, packageDir: string, options: FfmpegToolOptions): Promise<Variant> {
  const dir = join(packageDir, source.quality);
  await mkdir(dir);
  const [probe] = await settleAll([
    ffprobeFile(source.path, options),
    runFfmpeg(
      [
        ...['-i', source.path, '-map', '0', '-c', 'copy', '-f', 'hls', '-hls_time', String(SEGMENT_SECONDS)],
        ...['-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4', '-hls_flags', 'independent_segments'],
        ...['-hls_fmp4_init_filename', 'init.mp4', '-hls_segment_filename', join(dir, 'seg_%03d.m4s')],
        join(dir, 'index.m3u8'),
      ],
      options,
    ),
  ]);
  await keepOrientation(source.path, probe, join(dir, 'init.mp4'));
  return { uri: `${source.quality}/index.m3u8`, probe, ...(await measure(dir)) };
}

/** A copied portrait rung carries its display matrix into the package, as its MP4 does. */
async function keepOrientation(rendition: string, probe: MediaProbe, init: string): Promise<void> {
  if (!probe.video || probe.video.rotation === 0) return;
  const matrix = await readVideoMatrix(rendition);
  if (!matrix || !(await writeVideoMatrix(init, matrix)))
    throw new Error(
      `could not keep the ${probe.video.rotation}° display matrix of ${rendition} in its HLS init segment`,
    );
}

/** Peak and average bitrate over a media playlist's segments (`#EXTINF:<seconds>,` then the URI). */
async function measure(dir: string): Promise<{ bandwidth: number; averageBandwidth: number }> {
  const lines = (await readFile(join(dir, 'index.m3u8'), 'utf8')).split('\n').map((line) => line.trim());
  let peak = 0;
  let totalBits = 0;
  let totalSeconds = 0;
  let seconds: number | undefined;
  for (const line of lines) {
    if (line.startsWith('#EXTINF:')) seconds = Number.parseFloat(line.slice('#EXTINF:'.length));
    else if (line && !line.startsWith('#') && seconds) {
      const bits = (await stat(join(dir, line))).size * 8;
      peak = Math.max(peak, bits / seconds);
      totalBits += bits;
      totalSeconds += seconds;
      seconds = undefined;
    }
  }
  return {
    bandwidth: Math.ceil(peak),
    averageBandwidth: Math.ceil(totalSeconds ? totalBits / totalSeconds : 0),
  };
}

function masterPlaylist(variants: readonly Variant[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const variant of variants) {
    const video = variant.probe.video;
    const attributes = [
      `BANDWIDTH=${variant.bandwidth}`,
      `AVERAGE-BANDWIDTH=${variant.averageBandwidth}`,
      `CODECS="${codecsAttribute(variant.probe)}"`,
      ...(video ? [`RESOLUTION=${video.displayWidth}x${video.displayHeight}`] : []),
      ...(video?.frameRate ? [`FRAME-RATE=${video.frameRate.toFixed(3)}`] : []),
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, variant.uri);
  }
  return `${lines.join('\n')}\n`;
}

// profile_idc and constraint flags, as RFC 6381 spells them for avc1.
const AVC_PROFILES: Record<string, string> = {
  'Constrained Baseline': '42e0',
  Baseline: '4200',
  Main: '4d40',
  Extended: '5800',
  High: '6400',
  'High 10': '6e00',
  'High 4:2:2': '7a00',
  'High 4:4:4 Predictive': 'f400',
};
const AAC_OBJECT_TYPES: Record<string, number> = { LC: 2, 'HE-AAC': 5, 'HE-AACv2': 29 };

/** RFC 6381 codec strings, e.g. `avc1.64001f,mp4a.40.2`: players use them to skip variants they cannot play. */
function codecsAttribute(probe: MediaProbe): string {
  const codecs: string[] = [];
  const video = probe.video;
  if (video) {
    if (video.codec !== 'h264') throw new Error(`no HLS codec string for ${video.codec}`);
    const profile = AVC_PROFILES[video.profile ?? 'High'] ?? AVC_PROFILES.High;
    codecs.push(`avc1.${profile}${(video.level ?? 40).toString(16).padStart(2, '0')}`);
  }
  if (probe.audio) {
    if (probe.audio.codec !== 'aac') throw new Error(`no HLS codec string for ${probe.audio.codec}`);
    codecs.push(`mp4a.40.${AAC_OBJECT_TYPES[probe.audio.profile ?? 'LC'] ?? 2}`);
  }
  return codecs.join(',');
}

const HLS_CONTENT_TYPES = {
  m3u8: 'application/vnd.apple.mpegurl',
  mp4: 'video/mp4',
  m4s: 'video/iso.segment',
} as const;

async function listFiles(dir: string): Promise<OutputFile[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile());
  return Promise.all(
    files.map(async (entry) => {
      const name = join(entry.parentPath, entry.name).slice(dir.length + 1);
      const extension = entry.name.split('.').pop() as keyof typeof HLS_CONTENT_TYPES;
      return {
        name,
        contentType: HLS_CONTENT_TYPES[extension] ?? 'application/octet-stream',
        bytes: (await stat(join(dir, name))).size,
      };
    }),
  );
}
