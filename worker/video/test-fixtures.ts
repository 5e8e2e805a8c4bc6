import { execFile } from 'node:child_process';
import { mkdtemp, open, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { RungSpec } from './plan.ts';

/**
 * Small media files made at test time with ffmpeg's lavfi sources (never committed), plus the
 * assertions' helpers that read container structure. Shared by unit and end-to-end tests.
 */

const run = promisify(execFile);

async function ffmpeg(args: string[], ffmpegPath = 'ffmpeg'): Promise<void> {
  await run(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args]);
}

export interface ClipOptions {
  width?: number;
  height?: number;
  seconds?: number;
  fps?: number;
  audio?: boolean;
  /** Default ffmpeg MP4 output puts `moov` after `mdat`, like many cameras and editors. */
  faststart?: boolean;
  /** Extra output arguments, e.g. metadata. */
  extra?: string[];
}

function sources(o: ClipOptions): string[] {
  const size = `${o.width ?? 320}x${o.height ?? 180}`;
  const seconds = o.seconds ?? 2;
  const video = ['-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=${o.fps ?? 25}:duration=${seconds}`];
  const audio = o.audio === false ? [] : ['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`];
  return [...video, ...audio];
}

/** H.264 + AAC MP4 (moov at the end unless `faststart`). */
export async function makeH264Clip(dir: string, name: string, o: ClipOptions = {}): Promise<string> {
  const path = join(dir, name);
  const audio = o.audio === false ? [] : ['-c:a', 'aac', '-b:a', '96k'];
  const faststart = o.faststart ? ['-movflags', '+faststart'] : [];
  await ffmpeg([
    ...sources(o),
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
    ...audio,
    ...faststart,
    ...(o.extra ?? []),
    '-shortest',
    path,
  ]);
  return path;
}

/**
 * A landscape-coded clip with a display matrix saying "turn 90° clockwise", as phones record portrait
 * video, and a GPS location tag. ffmpeg 5.1 has no `-display_rotation`; its `rotate` tag is applied
 * counterclockwise when muxed, so 270 here gives the matrix a phone writes.
 */
export async function makeRotatedPhoneClip(dir: string, o: ClipOptions = {}): Promise<string> {
  const plain = await makeH264Clip(dir, 'phone-plain.mp4', { width: 640, height: 360, ...o });
  const path = join(dir, 'phone-rotated.mov');
  await ffmpeg([
    '-i',
    plain,
    ...['-c', 'copy', '-metadata:s:v', 'rotate=270', '-metadata', 'location=+48.8584+002.2945/', path],
  ]);
  return path;
}

export async function makeHevcMov(dir: string, o: ClipOptions = {}): Promise<string> {
  const path = join(dir, 'hevc.mov');
  await ffmpeg([
    ...sources(o),
    ...['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-tag:v', 'hvc1'],
    ...['-c:a', 'aac', '-shortest', path],
  ]);
  return path;
}

export async function makeVp9Webm(dir: string, o: ClipOptions = {}): Promise<string> {
  const path = join(dir, 'vp9.webm');
  await ffmpeg([
    ...sources(o),
    ...['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '300k'],
    ...['-c:a', 'libopus', '-shortest', path],
  ]);
  return path;
}

/** Frames dropped in an irregular pattern and timestamps kept: variable frame rate, as phones produce. */
export async function makeVfrClip(dir: string, o: ClipOptions = {}): Promise<string> {
  const path = join(dir, 'vfr.mp4');
  const seconds = o.seconds ?? 3;
  await ffmpeg([
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=320x240:rate=30:duration=${seconds},select='lt(mod(n\\,10)\\,6)+eq(mod(n\\,7)\\,0)'`,
    ...['-fps_mode', 'vfr', '-c:v', 'libx264', '-preset', 'ultrafast', path],
  ]);
  return path;
}

/** Ten minutes of 16×16 grey at 1 fps: made in a second, yet a long job for any real encode of it. */
export async function makeLongTinyClip(dir: string): Promise<string> {
  const path = join(dir, 'long-tiny.mp4');
  await ffmpeg([
    ...['-f', 'lavfi', '-i', 'color=c=gray:size=16x16:rate=1:duration=600'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', path],
  ]);
  return path;
}

function noise(seconds: number): string[] {
  // Pink noise costs an encoder what music does; a sine wave would undershoot the target bitrates.
  return ['-f', 'lavfi', '-i', `anoisesrc=duration=${seconds}:amplitude=0.3:color=pink`];
}

/** AAC in M4A with a 300×300 JPEG cover (an `attached_pic` stream). */
export async function makeM4aWithCover(dir: string, seconds = 8): Promise<string> {
  const path = join(dir, 'cover.m4a');
  await ffmpeg([
    ...noise(seconds),
    ...['-f', 'lavfi', '-i', 'testsrc2=size=300x300:duration=1'],
    ...['-map', '0:a', '-map', '1:v', '-frames:v', '1', '-ac', '2', '-c:a', 'aac', '-b:a', '192k'],
    ...['-c:v', 'mjpeg', '-disposition:v:0', 'attached_pic', path],
  ]);
  return path;
}

export async function makeMp3(dir: string, seconds = 8, bitrate = '128k'): Promise<string> {
  const path = join(dir, `audio-${bitrate}.mp3`);
  await ffmpeg([...noise(seconds), '-ac', '2', '-c:a', 'libmp3lame', '-b:a', bitrate, path]);
  return path;
}

/** A copy of `source` cut to its first half, as an interrupted upload leaves it. */
export async function makeTruncated(source: string, name = 'truncated.mp4'): Promise<string> {
  const path = join(dirname(source), name);
  await writeFile(path, await readFile(source));
  await truncate(path, Math.floor((await stat(path)).size / 2));
  return path;
}

export async function makeEmpty(dir: string): Promise<string> {
  const path = join(dir, 'empty.mp4');
  await writeFile(path, '');
  return path;
}

/** Top-level ISO BMFF box types in file order, reading only the 8- or 16-byte headers. */
export async function topLevelBoxes(path: string): Promise<string[]> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(16);
    const types: string[] = [];
    let offset = 0;
    while (offset + 8 <= size) {
      await file.read(header, 0, 16, offset);
      let boxSize = header.readUInt32BE(0);
      types.push(header.toString('latin1', 4, 8));
      if (boxSize === 1) boxSize = Number(header.readBigUInt64BE(8));
      if (boxSize === 0) break;
      offset += boxSize;
    }
    return types;
  } finally {
    await file.close();
  }
}

/** Every URI a playlist names: segment lines and `URI="…"` attributes (init segments, variants). */
export async function playlistUris(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const uris: string[] = [];
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (!line) continue;
    if (!line.startsWith('#')) uris.push(line);
    for (const match of line.matchAll(/URI="([^"]+)"/g)) if (match[1]) uris.push(match[1]);
  }
  return uris;
}

/** The files an HLS package references, from its master down through every media playlist. */
export async function hlsReferencedFiles(masterPath: string): Promise<string[]> {
  const files: string[] = [];
  for (const uri of await playlistUris(masterPath)) {
    const playlist = join(dirname(masterPath), uri);
    files.push(
      playlist,
      ...(await playlistUris(playlist)).map((segment) => join(dirname(playlist), segment)),
    );
  }
  return files;
}

/** A ladder small enough for 2-core test machines; same shape as the real one. */
export const smallLadder: readonly RungSpec[] = [
  { quality: 'low', height: 120, videoBitrate: 150_000, audioBitrate: 48_000 },
  { quality: 'medium', height: 180, videoBitrate: 250_000, audioBitrate: 64_000 },
  { quality: 'high', height: 240, videoBitrate: 400_000, audioBitrate: 96_000 },
];

/** The bytes of a one-frame, one-second H.264 MP4 of `width`×`height` (one colour: small whatever the size). */
export async function makeHugeVideo(width: number, height: number): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'huge-video-'));
  try {
    const path = join(dir, 'huge.mp4');
    await ffmpeg([
      ...['-f', 'lavfi', '-i', `color=c=blue:size=${width}x${height}:rate=1:duration=1`],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', path],
    ]);
    return await readFile(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
