import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { FrameSamplingError, frameTimes, sampleFrames } from './sample-frames.ts';

const ffmpegPath = 'ffmpeg';
let dir: string;
let video: string;
let videoBytes: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-frames-'));
  video = join(dir, 'clip.mp4');
  // 35 s of 1280x720 at 2 fps with a keyframe every second: 4 frames expected, each scaled to 640x360.
  const made = spawnSync(ffmpegPath, [
    ...[
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc2=size=1280x720:rate=2:duration=35',
    ],
    ...[
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-g',
      '2',
      '-pix_fmt',
      'yuv420p',
      '-movflags',
      '+faststart',
      video,
    ],
  ]);
  assert.equal(made.status, 0, made.stderr?.toString());
  videoBytes = (await stat(video)).size;
});
after(() => rm(dir, { recursive: true, force: true }));

/** Serves one file with Range support, as S3 does behind a presigned GET, and records where reads start. */
async function serveWithRanges(
  path: string,
  size: number,
  windowBytes = Number.POSITIVE_INFINITY,
): Promise<{ url: string; starts: number[]; largest: () => number; server: Server }> {
  const starts: number[] = [];
  let largest = 0;
  const server = createServer((req, res) => {
    const range = /bytes=(\d+)-(\d*)/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    starts.push(start);
    const end = Math.min(range?.[2] ? Number(range[2]) : size - 1, start + windowBytes - 1);
    largest = Math.max(largest, end - start + 1);
    res.writeHead(range ? 206 : 200, {
      'accept-ranges': 'bytes',
      'content-length': end - start + 1,
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    const body = createReadStream(path, { start, end });
    body.pipe(res);
    res.on('close', () => body.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/raw/clip.mp4`;
  return { url, starts, largest: () => largest, server };
}

test('frame times: one per 10 s, at most 8, centred in equal slices', () => {
  assert.deepEqual(frameTimes(35), [4.375, 13.125, 21.875, 30.625]);
  assert.deepEqual(frameTimes(4), [2]);
  assert.equal(frameTimes(3600).length, 8);
  assert.deepEqual(frameTimes(Number.NaN), [0]);
});

test('samples evenly spaced JPEG frames from a file, scaled to at most 640 px', async () => {
  const frames = await sampleFrames({ ffmpegPath, input: video, durationSeconds: 35 });
  assert.deepEqual(
    frames.map((f) => f.atSeconds),
    [4.375, 13.125, 21.875, 30.625],
  );
  for (const frame of frames) {
    assert.equal(frame.contentType, 'image/jpeg');
    const meta = await sharp(frame.bytes).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', 640, 360]);
  }
  assert.notDeepEqual(frames[0]?.bytes, frames[1]?.bytes);
});

test('samples from a URL by seeking with range reads, not by reading from the start', async () => {
  const origin = await serveWithRanges(video, videoBytes);
  try {
    const frames = await sampleFrames({ ffmpegPath, input: origin.url, durationSeconds: 35, maxFrames: 2 });
    assert.equal(frames.length, 2);
    // The second frame sits at 26 s: ffmpeg must have jumped into the last half of the file to get it.
    assert.ok(
      origin.starts.some((start) => start > videoBytes / 2),
      `range starts ${origin.starts.join(', ')} of ${videoBytes}`,
    );
  } finally {
    origin.server.closeAllConnections();
    origin.server.close();
  }
});

test('samples through bounded windows, as the gate serves storage: no answer is larger than one window', async () => {
  const origin = await serveWithRanges(video, videoBytes, 64 * 1024);
  try {
    const frames = await sampleFrames({ ffmpegPath, input: origin.url, durationSeconds: 35, maxFrames: 2 });
    assert.equal(frames.length, 2);
    assert.ok(origin.largest() <= 64 * 1024, `largest answer ${origin.largest()} bytes`);
    assert.ok(origin.starts.length > 2, 'ffmpeg asked again at the end of each window');
  } finally {
    origin.server.closeAllConnections();
    origin.server.close();
  }
});

test('a source that never answers is abandoned at the timeout', async () => {
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/raw/stuck.mp4`;
  const started = Date.now();
  try {
    await assert.rejects(
      sampleFrames({ ffmpegPath, input: url, durationSeconds: 20, timeoutMs: 500 }),
      /within 500 ms/,
    );
    assert.ok(Date.now() - started < 2_000);
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

test('an unreadable input and a missing ffmpeg are FrameSamplingErrors', async () => {
  await assert.rejects(
    sampleFrames({ ffmpegPath, input: join(dir, 'missing.mp4'), durationSeconds: 5 }),
    FrameSamplingError,
  );
  await assert.rejects(
    sampleFrames({ ffmpegPath: join(dir, 'no-ffmpeg'), input: video, durationSeconds: 5 }),
    FrameSamplingError,
  );
});
