import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { probeMedia } from '../../../platform/media/probe.ts';
import { runFfmpeg } from '../../../platform/media/run-ffmpeg.ts';
import { KEYFRAME_WINDOW_SECONDS } from '../../ffmpeg/probe.ts';
import { planSpans } from '../chunked/plan-spans.ts';
import { type PlannedRendition, planVideo } from '../plan.ts';
import { buildRendition } from '../renditions.ts';
import { smallLadder } from '../test-fixtures.ts';
import { assembleRendition } from './assemble-rendition.ts';
import { encodeChunk } from './encode-chunk.ts';
import { decodedFrames, packets, span } from './test-chunks.ts';

/**
 * Sources whose video does not start at 0 with a keyframe, and B-frame streams copied chunk by chunk: the
 * chunked renditions (HLS segments and the assembled MP4) keep every frame shown, at its time.
 */

let dir = '';
/** 320×180 (the `medium` rung's size: a copy when nothing forbids it), 30 fps, 2 s GOPs with B-frames. */
let camera = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'source-timelines-'));
  camera = join(dir, 'camera.mp4');
  await runFfmpeg(
    [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30:duration=14'],
      ...['-f', 'lavfi', '-i', 'sine=frequency=440:duration=14'],
      ...['-c:v', 'libx264', '-preset', 'veryfast', '-bf', '2', '-g', '60', '-keyint_min', '60'],
      ...[
        '-sc_threshold',
        '0',
        '-b:v',
        '300k',
        '-maxrate',
        '300k',
        '-bufsize',
        '600k',
        '-pix_fmt',
        'yuv420p',
      ],
      ...['-c:a', 'aac', '-b:a', '64k', camera],
    ],
    {},
  );
});
after(() => rm(dir, { recursive: true, force: true }));

interface Chunked {
  plan: PlannedRendition[];
  /** Per quality: its chunks' decoded frames, its chunks' video packets, the assembled MP4. */
  rungs: Map<string, { frames: number; video: { pts: number; duration: number }[]; mp4: string }>;
}

/** What the coordinator and the chunk and assembly jobs make of `source`, chunked at about 3 s. */
async function chunk(source: string, name: string): Promise<Chunked> {
  const probe = await probeMedia(source, { keyframeWindowSeconds: KEYFRAME_WINDOW_SECONDS });
  const { renditions, ...plan } = planVideo(probe, { ladder: smallLadder });
  const spans = await planSpans(source, probe, { renditions, ...plan }, 3, {});
  assert.ok(spans.length >= 3, `${name}: ${spans.length} chunks`);
  const files = new Map<string, string[]>();
  for (const s of spans) {
    const outputs = await encodeChunk(source, s, renditions, join(dir, `${name}-${s.index}`), {
      withAudio: true,
    });
    for (const output of outputs)
      files.set(output.quality, [...(files.get(output.quality) ?? []), output.path]);
  }
  const rungs: Chunked['rungs'] = new Map();
  for (const rendition of renditions) {
    const chunks = files.get(rendition.quality) ?? [];
    const mp4 = join(dir, `${name}-${rendition.quality}.mp4`);
    await assembleRendition(chunks, source, rendition, mp4, {});
    const frames = (await Promise.all(chunks.map((file) => decodedFrames(file)))).reduce((a, b) => a + b, 0);
    const video = (await Promise.all(chunks.map((file) => packets(file, 'v')))).flat();
    rungs.set(rendition.quality, { frames, video, mp4 });
  }
  return { plan: renditions, rungs };
}

function near(actual: number | undefined, expected: number | undefined, what: string): void {
  assert.ok(
    actual !== undefined && expected !== undefined && Math.abs(actual - expected) <= 0.05,
    `${what}: ${actual} s, the source's ${expected} s`,
  );
}

/** Each stream's first and last instant, from the file's start. */
async function streamSpans(
  path: string,
): Promise<{ video: { start: number; end: number }; audio: { start: number; end: number } }> {
  return { video: span(await packets(path, 'v')), audio: span(await packets(path, 'a')) };
}

test('a B-frame source copied chunk by chunk: every frame once, none repeated at a boundary', async () => {
  const { plan, rungs } = await chunk(camera, 'camera');
  assert.equal(plan.find((r) => r.quality === 'medium')?.mode, 'remux', 'the camera clip is copied');
  const expected = await decodedFrames(camera);
  for (const [quality, rung] of rungs) {
    assert.equal(rung.frames, expected, `${quality} segments`);
    assert.equal(await decodedFrames(rung.mp4), expected, `${quality} MP4`);
    for (let i = 1; i < rung.video.length; i++)
      assert.ok(
        (rung.video[i]?.pts ?? 0) > (rung.video[i - 1]?.pts ?? 0),
        `${quality}: frame ${i} repeats a time`,
      );
  }
});

test('an MP4 whose edit list starts mid-GOP: every frame shown, from 0, audio and video the source’s lengths', async () => {
  // What `ffmpeg -ss 3.3 -c copy` makes: the GOP from 2 s is stored, 2–3.3 s hidden by the edit list.
  const trimmed = join(dir, 'trimmed.mp4');
  await runFfmpeg(['-ss', '3.3', '-i', camera, '-c', 'copy', '-t', '10.2', trimmed], {});
  const source = await streamSpans(trimmed);
  const expected = await decodedFrames(trimmed);
  const { rungs } = await chunk(trimmed, 'trimmed');
  for (const [quality, rung] of rungs) {
    assert.equal(rung.frames, expected, `${quality} segments`);
    assert.equal(await decodedFrames(rung.mp4), expected, `${quality} MP4`);
    const { video, audio } = await streamSpans(rung.mp4);
    assert.equal(video.start, 0, `${quality}: the first frame at 0`);
    near(video.end, source.video.end, `${quality} MP4 video end`);
    near(audio.end, source.audio.end, `${quality} MP4 audio end`);
  }
});

test('video that starts after the audio (or a B-frame delay with no edit list): the chunks keep its start', async () => {
  for (const [name, args] of [
    ['late', ['-i', camera, '-itsoffset', '0.5', '-i', camera, '-map', '1:v', '-map', '0:a']],
    ['no-edit-list', ['-i', camera, '-map', '0', '-use_editlist', '0']],
  ] as const) {
    const source = join(dir, `${name}.mp4`);
    await runFfmpeg([...args, '-c', 'copy', source], {});
    const { plan, rungs } = await chunk(source, name);
    for (const rendition of plan) {
      // The single pass over the whole file is the reference: what the player shows when.
      const whole = await buildRendition(
        source,
        join(dir, `${name}-${rendition.quality}-whole.mp4`),
        rendition,
      );
      const mp4 = rungs.get(rendition.quality)?.mp4 ?? '';
      const [chunked, single] = [await streamSpans(mp4), await streamSpans(whole.path)];
      for (const stream of ['video', 'audio'] as const) {
        near(chunked[stream].start, single[stream].start, `${name} ${rendition.quality} ${stream} start`);
        near(chunked[stream].end, single[stream].end, `${name} ${rendition.quality} ${stream} end`);
      }
      assert.equal(await decodedFrames(mp4), await decodedFrames(whole.path), `${name} ${rendition.quality}`);
    }
  }
});
