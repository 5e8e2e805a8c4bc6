import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import {
  type ChunkSpan,
  keyframeTimes,
  planChunks,
  probeKeyframeTimes,
  sampleKeyframeTimes,
} from './plan-chunks.ts';
import { serveFile } from './test-chunks.ts';

const every = (step: number, until: number) =>
  Array.from({ length: Math.floor(until / step) + 1 }, (_, i) => i * step);

/** The spans tile [0, duration): first at 0, each starting where the last ended, the last at the end. */
function assertCovers(spans: readonly ChunkSpan[], duration: number): void {
  assert.equal(spans[0]?.startSeconds, 0);
  assert.equal(spans.at(-1)?.endSeconds, duration);
  spans.forEach((span, i) => {
    assert.equal(span.index, i);
    assert.ok(span.endSeconds > span.startSeconds, `span ${i} is empty`);
    if (i > 0) assert.equal(span.startSeconds, spans[i - 1]?.endSeconds, `gap or overlap before ${i}`);
  });
}

const lengths = (spans: readonly ChunkSpan[]) =>
  spans.map((s) => Math.round((s.endSeconds - s.startSeconds) * 1e6) / 1e6);

test('keyframes every 2 s: cuts on the keyframe nearest each multiple of the target', () => {
  const spans = planChunks({ durationSeconds: 20, keyframeSeconds: every(2, 20) }, 5);
  assertCovers(spans, 20);
  // 5 is no keyframe: 4 and 6 are as near; from 4, 9 → 8 or 10; every cut is a keyframe.
  for (const span of spans) assert.equal(span.startSeconds % 2, 0);
  assert.ok(
    lengths(spans).every((length) => length >= 2.5 && length <= 10),
    `${lengths(spans)}`,
  );
  assert.deepEqual(lengths(planChunks({ durationSeconds: 20, keyframeSeconds: every(2, 20) }, 6)), [6, 6, 8]);
});

test('keyframes every 8 s with a 5 s target: chunks of 8, the nearest cuts within 2.5–10 s', () => {
  const spans = planChunks({ durationSeconds: 60, keyframeSeconds: every(8, 60) }, 5);
  assertCovers(spans, 60);
  assert.deepEqual(lengths(spans), [8, 8, 8, 8, 8, 8, 8, 4]);
});

test('irregular keyframes: never shorter than half the target but the last; longer than 2× only when no keyframe allows', () => {
  const keyframes = [0, 0.5, 1.2, 3.9, 4.4, 7.1, 15.3, 15.9, 27, 29.5];
  const spans = planChunks({ durationSeconds: 31, keyframeSeconds: keyframes }, 4);
  assertCovers(spans, 31);
  for (const span of spans) assert.ok(span.startSeconds === 0 || keyframes.includes(span.startSeconds));
  assert.deepEqual(
    spans.map((s) => s.startSeconds),
    [0, 3.9, 7.1, 15.3, 27],
  );
  // 7.1 → 15.3 (8.2 s) and 15.3 → 27 (11.7 s): no keyframe between them.
  for (const span of spans.slice(0, -1)) assert.ok(span.endSeconds - span.startSeconds >= 2);
});

test('no keyframe information: a fixed grid, a short tail merged into the last chunk', () => {
  assert.deepEqual(lengths(planChunks({ durationSeconds: 20 }, 5)), [5, 5, 5, 5]);
  assert.deepEqual(lengths(planChunks({ durationSeconds: 21 }, 5)), [5, 5, 5, 6]);
  assert.deepEqual(lengths(planChunks({ durationSeconds: 23 }, 5)), [5, 5, 5, 5, 3]);
  assertCovers(planChunks({ durationSeconds: 600.033 }, 6), 600.033);
});

test('short videos are one chunk; nothing to cut is no chunk', () => {
  assert.deepEqual(planChunks({ durationSeconds: 3, keyframeSeconds: [0, 1, 2] }, 5), [
    { index: 0, startSeconds: 0, endSeconds: 3 },
  ]);
  assert.deepEqual(lengths(planChunks({ durationSeconds: 7 }, 5)), [7]);
  assert.deepEqual(planChunks({ durationSeconds: 0 }, 5), []);
  assert.deepEqual(planChunks({ durationSeconds: Number.NaN }, 5), []);
  assert.throws(() => planChunks({ durationSeconds: 10 }, 0), RangeError);
  // A stream with its only keyframe at the start cannot be cut by copy: one chunk.
  assert.equal(planChunks({ durationSeconds: 30, keyframeSeconds: [0] }, 5).length, 1);
});

test('keyframe times are read from the file start, keyframes only, de-duplicated and sorted', () => {
  const csv = [
    'packet,1.5,K__',
    'packet,1.533,___',
    'packet,3.5,K__',
    'packet,N/A,K__',
    'packet,3.5,K__',
    'format,1.5',
  ];
  assert.deepEqual(keyframeTimes(csv.join('\n')), [0, 2]);
  assert.deepEqual(keyframeTimes('packet,0.0,K_\n'), [0]);
  // An edit list starting mid-GOP: the keyframe before 0 is decoded, never shown, and no cut.
  assert.deepEqual(keyframeTimes('packet,-1.3,KD_\npacket,0.7,K__\nformat,0.0\n'), [0.7]);
});

test('planChunks with every rung encoded cuts on the grid where no keyframe fits, at a keyframe where one does', () => {
  // Keyframes every 8.5 s then every 2 s: no keyframe between 3 and 12 s after 8.5 (next is 21).
  const keyframeSeconds = [8.5, 21, 23, 25, 27, 29];
  const spans = planChunks({ durationSeconds: 40, keyframeSeconds, gridWhenNoKeyframeFits: true }, 6);
  assertCovers(spans, 40);
  assert.deepEqual(
    spans.map((span) => span.endSeconds),
    [8.5, 14.5, 21, 27, 33, 40],
  );
  // A copied rung needs the keyframe, however far.
  const copied = planChunks({ durationSeconds: 40, keyframeSeconds }, 6);
  assert.deepEqual(copied.map((span) => span.endSeconds).slice(0, 2), [8.5, 21]);
});

test('planChunks makes the first chunk short when asked, on the grid or at a keyframe near it, and leaves a one-chunk video whole', () => {
  const grid = planChunks({ durationSeconds: 20, firstSeconds: 2 }, 6);
  assertCovers(grid, 20);
  assert.deepEqual(
    grid.map((span) => span.endSeconds),
    [2, 8, 14, 20],
  );
  const keyed = planChunks({ durationSeconds: 20, keyframeSeconds: every(1.5, 20), firstSeconds: 2 }, 6);
  assert.deepEqual(
    keyed.map((span) => span.endSeconds),
    [1.5, 7.5, 13.5, 20],
  );
  assert.equal(planChunks({ durationSeconds: 8, firstSeconds: 2 }, 6).length, 1);
});

test('sampleKeyframeTimes finds the keyframes of a B-frame MP4 with an edit list as reading every packet does', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'keyframe-sample-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const clip = join(dir, 'bframes.mp4');
  // x264's default preset has B-frames: packets are stored out of order and the edit list shifts them.
  await promisify(execFile)('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'],
    ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30:duration=10'],
    ...['-f', 'lavfi', '-i', 'sine=duration=10', '-c:v', 'libx264', '-g', '50', '-keyint_min', '50'],
    ...['-c:a', 'aac', clip],
  ]);
  const every = await probeKeyframeTimes(clip, {});
  assert.equal(every.length, 6);
  assert.deepEqual(await sampleKeyframeTimes(clip, 10, 0.5, {}), every);
});

test('probeKeyframeTimes reads every keyframe of a 10-minute 1080p file; sampleKeyframeTimes finds them reading a sliver of it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'keyframe-times-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const run = promisify(execFile);
  const quiet = ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y'];
  const gop = join(dir, 'gop.mp4');
  // Two seconds of 1080p30 at 5 Mb/s, one GOP, looped by stream copy to ten minutes (made in seconds).
  await run('ffmpeg', [
    ...quiet,
    ...['-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=30:duration=2'],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '5M', '-g', '60', '-pix_fmt', 'yuv420p', gop],
  ]);
  const long = join(dir, 'long.mp4');
  await run('ffmpeg', [...quiet, '-stream_loop', '299', '-i', gop, '-c', 'copy', long]);
  const started = performance.now();
  const times = await probeKeyframeTimes(long, {});
  t.diagnostic(
    `keyframe probe of a 10-min 1080p file (300 keyframes, 18000 packets): ${Math.round(performance.now() - started)} ms`,
  );
  assert.equal(times.length, 300);
  assert.deepEqual(times.slice(0, 3), [0, 2, 4]);
  assert.equal(times.at(-1), 598);
  // Over HTTP, as the coordinator reads the original: the keyframe at each instant of a 6 s grid, a
  // range read each (and a few per process for the index), not the whole file.
  const served = await serveFile(long);
  t.after(served.close);
  const sampledAt = performance.now();
  const sampled = await sampleKeyframeTimes(served.url, 600, 6, {});
  const { size } = await stat(long);
  t.diagnostic(
    `sampled over HTTP: ${Math.round(performance.now() - sampledAt)} ms, ${served.requests()} requests, ` +
      `${(served.bytes() / 1e6).toFixed(1)} of ${(size / 1e6).toFixed(0)} MB sent before ffprobe hung up`,
  );
  assert.deepEqual(sampled, every(6, 594));
  assert.ok(served.requests() < 100 + 6 * 5, `${served.requests()} requests`);
});
