import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { probeMedia } from '../../../platform/media/probe.ts';
import { type PlannedRendition, planVideo } from '../plan.ts';
import { makeH264Clip, smallLadder } from '../test-fixtures.ts';
import { encodeChunk } from './encode-chunk.ts';
import { type ChunkSpan, planChunks, probeKeyframeTimes } from './plan-chunks.ts';

/** Test helpers for the chunk layer: a chunked 20 s clip, and what ffprobe reads back from files. */

const run = promisify(execFile);

export const CLIP_SECONDS = 20;
export const CLIP_FPS = 30;

export interface ChunkedClip {
  source: string;
  spans: ChunkSpan[];
  /** The two smallest rungs of the small ladder, both encoded. */
  renditions: PlannedRendition[];
  /** Per quality, the chunk files in order. */
  chunks: Map<string, string[]>;
  /** Milliseconds per encodeChunk call. */
  encodeMs: number[];
}

/** testsrc2 + a sine, 30 fps, a keyframe every 2 s; chunked at ~`targetSeconds` for two rungs. */
export async function makeChunkedClip(dir: string, targetSeconds = 6): Promise<ChunkedClip> {
  const source = await makeH264Clip(dir, 'chunk-source.mp4', {
    seconds: CLIP_SECONDS,
    fps: CLIP_FPS,
    extra: ['-g', String(2 * CLIP_FPS)],
  });
  const probe = await probeMedia(source);
  const renditions = planVideo(probe, { ladder: smallLadder }).renditions.slice(0, 2);
  const keyframeSeconds = await probeKeyframeTimes(source, {});
  const spans = planChunks({ durationSeconds: CLIP_SECONDS, keyframeSeconds }, targetSeconds);
  const chunks = new Map(renditions.map((rendition) => [rendition.quality as string, [] as string[]]));
  const encodeMs: number[] = [];
  for (const span of spans) {
    const started = performance.now();
    const outputs = await encodeChunk(source, span, renditions, join(dir, `chunk-${span.index}`), {
      withAudio: true,
    });
    encodeMs.push(Math.round(performance.now() - started));
    for (const output of outputs) chunks.get(output.quality)?.push(output.path);
  }
  return { source, spans, renditions, chunks, encodeMs };
}

/** For a test file: a temp dir and one chunked clip made before its tests, removed after them. */
export function useChunkedClip(prefix: string): { readonly dir: string; readonly clip: ChunkedClip } {
  const state = { dir: '', clip: undefined as ChunkedClip | undefined };
  before(async () => {
    state.dir = await mkdtemp(join(tmpdir(), prefix));
    state.clip = await makeChunkedClip(state.dir);
  });
  after(() => rm(state.dir, { recursive: true, force: true }));
  return {
    get dir() {
      return state.dir;
    },
    get clip() {
      if (!state.clip) throw new Error('the chunked clip is made before the tests');
      return state.clip;
    },
  };
}

export interface Packet {
  pts: number;
  duration: number;
  key: boolean;
}

/** A stream's packets in presentation order (`v` or `a`). */
export async function packets(path: string, stream: 'v' | 'a'): Promise<Packet[]> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', '-select_streams', `${stream}:0`],
    ...['-show_entries', 'packet=pts_time,duration_time,flags', '-of', 'csv=p=0', path],
  ]);
  return stdout
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [pts = '', duration = '', flags = ''] = line.split(',');
      return { pts: Number(pts), duration: Number(duration), key: flags.startsWith('K') };
    })
    .sort((a, b) => a.pts - b.pts);
}

/** Frames a decoder gets out of the first video stream (every frame decoded). */
export async function decodedFrames(path: string, inputOptions: string[] = []): Promise<number> {
  const { stdout } = await run('ffprobe', [
    ...['-v', 'error', ...inputOptions, '-count_frames', '-select_streams', 'v:0'],
    ...['-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path],
  ]);
  return Number(stdout.trim().split('\n')[0]);
}

/** Seconds from the first packet's start to the last one's end. */
export function span(list: readonly Packet[]): { start: number; end: number } {
  const last = list.at(-1);
  return { start: list[0]?.pts ?? 0, end: last ? last.pts + last.duration : 0 };
}

/** Serves one file over HTTP with single byte ranges, as object storage does. */
export async function serveFile(
  path: string,
): Promise<{ url: string; requests: () => number; bytes: () => number; close: () => Promise<void> }> {
  const { size } = await stat(path);
  let count = 0;
  let served = 0;
  const server: Server = createServer((req, res) => {
    count++;
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range?.[1] ? Number(range[1]) : 0;
    const end = range?.[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start >= size) {
      res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
      return;
    }
    res.writeHead(range ? 206 : 200, {
      'accept-ranges': 'bytes',
      'content-length': end - start + 1,
      'content-type': 'video/mp4',
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // What was sent before the client hung up, not what it asked for: ffmpeg asks for the rest of the
    // file and drops the connection once it has what it needs.
    const body = createReadStream(path, { start, end });
    body.on('data', (chunk) => (served += chunk.length));
    res.on('close', () => body.destroy());
    body.pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/source.mp4`,
    requests: () => count,
    bytes: () => served,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
