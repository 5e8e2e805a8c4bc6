import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeMedia } from '../../../platform/media/probe.ts';
import { runFfmpeg } from '../../../platform/media/run-ffmpeg.ts';
import { planVideo, remuxArgs } from '../plan.ts';
import { buildRendition } from '../renditions.ts';
import { makeRotatedPhoneClip, makeVfrClip, smallLadder } from '../test-fixtures.ts';
import { encodeChunk } from './encode-chunk.ts';
import { planChunks } from './plan-chunks.ts';
import {
  CLIP_FPS,
  CLIP_SECONDS,
  decodedFrames,
  packets,
  serveFile,
  span,
  useChunkedClip,
} from './test-chunks.ts';

const FRAME = 1 / CLIP_FPS;
const fixture = useChunkedClip('encode-chunk-');

test('every source frame is in exactly one chunk of each rung', async (t) => {
  t.diagnostic(`spans ${fixture.clip.spans.map((s) => `${s.startSeconds}-${s.endSeconds}`).join(', ')}`);
  t.diagnostic(
    `encodeChunk per ${fixture.clip.renditions.length}-rung chunk: ${fixture.clip.encodeMs.join(', ')} ms`,
  );
  assert.ok(fixture.clip.spans.length >= 3);
  for (const [quality, files] of fixture.clip.chunks) {
    const frames = await Promise.all(files.map((file) => decodedFrames(file)));
    assert.equal(
      frames.reduce((sum, n) => sum + n, 0),
      CLIP_SECONDS * CLIP_FPS,
      `${quality}: ${frames}`,
    );
  }
});

test('timestamps run on across chunks: strictly increasing, one frame apart at every boundary', async () => {
  for (const [quality, files] of fixture.clip.chunks) {
    const perChunk = await Promise.all(files.map((file) => packets(file, 'v')));
    const all = perChunk.flat();
    for (let i = 1; i < all.length; i++) {
      const step = (all[i]?.pts ?? 0) - (all[i - 1]?.pts ?? 0);
      assert.ok(step > 0, `${quality}: pts not increasing at frame ${i}`);
      assert.ok(Math.abs(step - FRAME) < 0.001, `${quality}: a ${step.toFixed(4)} s step at frame ${i}`);
    }
    // Each chunk starts where its span starts, on the same timeline (MPEG-TS adds one constant offset).
    const offset = all[0]?.pts ?? 0;
    for (const [i, s] of fixture.clip.spans.entries())
      assert.ok(Math.abs((perChunk[i]?.[0]?.pts ?? 0) - offset - s.startSeconds) < 0.001);
  }
});

test('each chunk starts with a keyframe and has one every 2 s after it, and no other', async () => {
  for (const [quality, files] of fixture.clip.chunks) {
    const perChunk = await Promise.all(files.map((file) => packets(file, 'v')));
    for (const [i, video] of perChunk.entries()) {
      const start = video[0]?.pts ?? 0;
      const keyframes = video.filter((p) => p.key).map((p) => Math.round((p.pts - start) * 1000) / 1000);
      const length = (fixture.clip.spans[i]?.endSeconds ?? 0) - (fixture.clip.spans[i]?.startSeconds ?? 0);
      const expected = Array.from({ length: Math.ceil(length / 2) }, (_, n) => n * 2);
      assert.deepEqual(keyframes, expected, `${quality} chunk ${i}`);
    }
  }
});

test('audio covers each chunk’s video within 50 ms at both ends', async () => {
  for (const [quality, files] of fixture.clip.chunks) {
    for (const [i, file] of files.entries()) {
      const [video, audio] = (await Promise.all([packets(file, 'v'), packets(file, 'a')])).map(span);
      assert.ok(video && audio);
      assert.ok(
        Math.abs(audio.start - video.start) <= 0.05,
        `${quality} ${i}: starts ${audio.start} vs ${video.start}`,
      );
      assert.ok(
        Math.abs(audio.end - video.end) <= 0.05,
        `${quality} ${i}: ends ${audio.end} vs ${video.end}`,
      );
    }
  }
});

test('a fixed grid at 29.97 fps cuts between frames: every frame once, each at its source instant', async () => {
  const source = join(fixture.dir, 'ntsc.mp4');
  await runFfmpeg(
    [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=30000/1001:duration=8'],
      ...['-c:v', 'libx264', '-preset', 'ultrafast', '-g', '250', '-pix_fmt', 'yuv420p', source],
    ],
    {},
  );
  const probe = await probeMedia(source);
  const [rendition] = planVideo(probe, { ladder: smallLadder }).renditions;
  assert.ok(rendition && probe.video?.durationSeconds);
  // No keyframe information: cuts at 3 and 6 s, which fall between frames at this rate.
  const spans = planChunks({ durationSeconds: probe.video.durationSeconds }, 3);
  assert.deepEqual(
    spans.map((s) => s.startSeconds),
    [0, 3, 6],
  );
  const chunked: number[] = [];
  for (const s of spans) {
    const [output] = await encodeChunk(source, s, [rendition], join(fixture.dir, `ntsc-${s.index}`), {
      withAudio: false,
    });
    chunked.push(...(await packets(output?.path ?? '', 'v')).map((p) => p.pts));
  }
  const original = (await packets(source, 'v')).map((p) => p.pts);
  assert.equal(chunked.length, original.length);
  const offset = (chunked[0] ?? 0) - (original[0] ?? 0);
  for (const [i, pts] of chunked.entries())
    assert.ok(Math.abs(pts - offset - (original[i] ?? 0)) < 0.001, `frame ${i} at ${pts}`);
});

test('a variable-rate phone-style clip: the chunks hold the frames a single pass at the plan’s rate does', async () => {
  const source = await makeVfrClip(fixture.dir, { seconds: 6 });
  const probe = await probeMedia(source);
  const [rendition] = planVideo(probe, { ladder: smallLadder }).renditions;
  assert.ok(rendition && probe.video?.variableFrameRate && probe.durationSeconds);
  const whole = await buildRendition(source, join(fixture.dir, 'vfr-single.mp4'), rendition);
  const spans = planChunks({ durationSeconds: probe.durationSeconds }, 2);
  const chunked: number[] = [];
  for (const s of spans) {
    const [output] = await encodeChunk(source, s, [rendition], join(fixture.dir, `vfr-${s.index}`), {
      withAudio: false,
    });
    chunked.push(...(await packets(output?.path ?? '', 'v')).map((p) => p.pts));
  }
  const single = (await packets(whole.path, 'v')).map((p) => p.pts);
  assert.equal(chunked.length, single.length);
  const offset = (chunked[0] ?? 0) - (single[0] ?? 0);
  for (const [i, pts] of chunked.entries())
    assert.ok(Math.abs(pts - offset - (single[i] ?? 0)) < 0.001, `frame ${i} at ${pts}`);
});

test('a presigned-style http URL is read by ranges and gives the same frames as the file, with progress', async (t) => {
  const server = await serveFile(fixture.clip.source);
  t.after(() => server.close());
  const middle = fixture.clip.spans[1];
  const fractions: number[] = [];
  assert.ok(middle);
  const [output] = await encodeChunk(
    server.url,
    middle,
    fixture.clip.renditions.slice(0, 1),
    join(fixture.dir, 'over-http'),
    { withAudio: true, onProgress: (fraction) => fractions.push(fraction) },
  );
  assert.ok(fractions.length > 0 && fractions.every((f) => f >= 0 && f <= 1), `progress ${fractions}`);
  assert.equal(fractions.at(-1), 1);
  assert.ok(output);
  const local = fixture.clip.chunks.get(output.quality)?.[1] ?? '';
  assert.deepEqual(
    (await packets(output.path, 'v')).map((p) => p.pts),
    (await packets(local, 'v')).map((p) => p.pts),
  );
  t.diagnostic(`range requests for one chunk: ${server.requests()}`);
});

test('the last chunk of a Matroska source over http ends with the file: a demuxer that reads to the end is not retried there', async (t) => {
  const mkv = join(fixture.dir, 'source.mkv');
  await runFfmpeg(['-i', fixture.clip.source, '-map', '0', '-c', 'copy', mkv], {});
  const server = await serveFile(mkv);
  t.after(() => server.close());
  const last = fixture.clip.spans.at(-1);
  assert.ok(last);
  // Storage answers a read past the end with 416; retried, that held the job for ffmpeg's 120 s backoff.
  const [output] = await encodeChunk(
    server.url,
    last,
    fixture.clip.renditions.slice(0, 1),
    join(fixture.dir, 'mkv-over-http'),
    { withAudio: true, signal: AbortSignal.timeout(30_000) },
  );
  assert.ok(output);
  const local = fixture.clip.chunks.get(output.quality)?.at(-1) ?? '';
  assert.equal((await packets(output.path, 'v')).length, (await packets(local, 'v')).length);
});

test('a remux rung is a stream copy of the span: the source’s own frames, none repeated', async () => {
  const copy = {
    quality: 'medium' as const,
    mode: 'remux' as const,
    width: 320,
    height: 180,
    outputArgs: remuxArgs(),
  };
  let frames = 0;
  let previousEnd = 0;
  for (const s of fixture.clip.spans) {
    const [output] = await encodeChunk(fixture.clip.source, s, [copy], join(fixture.dir, `copy-${s.index}`), {
      withAudio: true,
    });
    assert.ok(output);
    const video = await packets(output.path, 'v');
    assert.ok(video[0]?.key, `copied chunk ${s.index} starts on a keyframe`);
    if (s.index > 0) assert.ok(Math.abs((video[0]?.pts ?? 0) - previousEnd) < 0.001, 'no gap, no overlap');
    previousEnd = span(video).end;
    frames += video.length;
  }
  assert.equal(frames, CLIP_SECONDS * CLIP_FPS);
});

test('a portrait phone clip (90° display matrix) gives portrait chunks, copied rung included', async () => {
  const phoneDir = join(fixture.dir, 'phone');
  const source = await makeRotatedPhoneClip(fixture.dir, { seconds: 4 });
  const probe = await probeMedia(source);
  const [low] = planVideo(probe, { ladder: smallLadder }).renditions;
  assert.ok(low);
  const copy = {
    quality: 'high' as const,
    mode: 'remux' as const,
    width: 360,
    height: 640,
    outputArgs: remuxArgs(),
  };
  const outputs = await encodeChunk(
    source,
    { index: 0, startSeconds: 0, endSeconds: 4 },
    [low, copy],
    phoneDir,
    {
      withAudio: true,
    },
  );
  for (const output of outputs) {
    const video = (await probeMedia(output.path)).video;
    assert.ok(
      video && video.displayHeight > video.displayWidth,
      `${output.quality} is ${video?.displayWidth}x${video?.displayHeight}`,
    );
    assert.equal(video?.rotation, 0, 'upright pixels: MPEG-TS has no display matrix to turn them');
  }
  assert.deepEqual((await readdir(phoneDir)).sort(), ['high.ts', 'low.ts']);
});
