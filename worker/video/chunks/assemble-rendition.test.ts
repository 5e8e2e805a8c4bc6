import assert from 'node:assert/strict';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { probeMedia } from '../../../platform/media/probe.ts';
import { runFfmpeg } from '../../../platform/media/run-ffmpeg.ts';
import { topLevelBoxes } from '../test-fixtures.ts';
import { assembleRendition } from './assemble-rendition.ts';
import { CLIP_FPS, CLIP_SECONDS, decodedFrames, packets, serveFile, useChunkedClip } from './test-chunks.ts';

const fixture = useChunkedClip('assemble-rendition-');

test('the rung’s MP4: every frame once, the source’s duration, moov first, and it decodes cleanly', async (t) => {
  const [rendition] = fixture.clip.renditions;
  assert.ok(rendition);
  const out = join(fixture.dir, `${rendition.quality}.mp4`);
  const started = performance.now();
  const output = await assembleRendition(
    fixture.clip.chunks.get(rendition.quality) ?? [],
    fixture.clip.source,
    rendition,
    out,
    {},
  );
  t.diagnostic(
    `assembleRendition of ${fixture.clip.spans.length} chunks + whole audio: ${Math.round(performance.now() - started)} ms`,
  );
  assert.deepEqual(
    { quality: output.quality, format: output.format, width: output.width, height: output.height },
    { quality: rendition.quality, format: 'mp4', width: rendition.width, height: rendition.height },
  );
  assert.equal(await decodedFrames(out), CLIP_SECONDS * CLIP_FPS);
  const [source, assembled] = [await probeMedia(fixture.clip.source), await probeMedia(out)];
  assert.ok(Math.abs((assembled.durationSeconds ?? 0) - (source.durationSeconds ?? 0)) <= 0.05);
  assert.ok(Math.abs((assembled.video?.durationSeconds ?? 0) - CLIP_SECONDS) <= 0.05);
  assert.equal(assembled.audio?.codec, 'aac');
  const boxes = await topLevelBoxes(out);
  assert.ok(boxes.indexOf('moov') < boxes.indexOf('mdat'), `not faststart: ${boxes}`);
  // Monotonic decode timestamps and no decoder complaint over the whole file.
  await runFfmpeg(['-xerror', '-i', out, '-f', 'null', '-'], {});
  const video = await packets(out, 'v');
  assert.ok(video.every((p, i) => i === 0 || p.pts > (video[i - 1]?.pts ?? 0)));
  const audio = await packets(out, 'a');
  assert.ok(Math.abs((audio[0]?.pts ?? 0) - (video[0]?.pts ?? 0)) <= 0.05, 'audio and video start together');
});

test('the video is copied from the chunks, never re-encoded: the same packets', async () => {
  const rendition = fixture.clip.renditions[1];
  assert.ok(rendition);
  const files = fixture.clip.chunks.get(rendition.quality) ?? [];
  const out = join(fixture.dir, 'copied.mp4');
  await assembleRendition(files, undefined, rendition, out, {});
  const chunkSizes = (await Promise.all(files.map((file) => packets(file, 'v')))).flat().length;
  assert.equal((await packets(out, 'v')).length, chunkSizes);
  assert.equal((await probeMedia(out)).audio, undefined, 'no audio source, no audio');
});

test('the audio source may be an http URL, at the bitrate asked for', async (t) => {
  const server = await serveFile(fixture.clip.source);
  t.after(() => server.close());
  const [rendition] = fixture.clip.renditions;
  assert.ok(rendition);
  const out = join(fixture.dir, 'url-audio.mp4');
  await assembleRendition(fixture.clip.chunks.get(rendition.quality) ?? [], server.url, rendition, out, {
    audioBitrate: 32_000,
  });
  const audio = (await probeMedia(out)).audio;
  assert.ok(audio?.bitrate !== undefined && audio.bitrate <= 40_000, `audio at ${audio?.bitrate}`);
});

test('chunk paths are taken whole, whatever characters they hold', async () => {
  const rendition = fixture.clip.renditions[0];
  assert.ok(rendition);
  const odd = join(fixture.dir, 'a|b c');
  await mkdir(odd);
  const files = await Promise.all(
    (fixture.clip.chunks.get(rendition.quality) ?? []).map(async (file, i) => {
      const copy = join(odd, `${i}|x.ts`);
      await copyFile(file, copy);
      return copy;
    }),
  );
  const out = join(odd, 'out.mp4');
  await assembleRendition(files, undefined, rendition, out, {});
  assert.equal(await decodedFrames(out), CLIP_SECONDS * CLIP_FPS);
  assert.deepEqual(
    (await readdir(odd)).filter((name) => !name.endsWith('.ts')),
    ['out.mp4'],
    'the list file is gone',
  );
  await assert.rejects(assembleRendition([`${files[0]}\nx`], undefined, rendition, out, {}), /line break/);
});

test('nothing to assemble is an error, and no file is left', async () => {
  const [rendition] = fixture.clip.renditions;
  assert.ok(rendition);
  await assert.rejects(
    assembleRendition([], fixture.clip.source, rendition, join(fixture.dir, 'none.mp4'), {}),
  );
});
