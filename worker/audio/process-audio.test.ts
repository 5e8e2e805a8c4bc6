import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { MediaInputError } from '../ffmpeg/media-input-error.ts';
import type { MediaOutput } from '../ffmpeg/outputs.ts';
import { ffprobeFile } from '../ffmpeg/probe.ts';
import {
  hlsReferencedFiles,
  makeEmpty,
  makeH264Clip,
  makeM4aWithCover,
  makeMp3,
  topLevelBoxes,
} from '../video/test-fixtures.ts';
import { processAudio, retryAudioRendition } from './process-audio.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'process-audio-test-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function assertAacRendition(output: MediaOutput, bitrate: number): Promise<void> {
  const probe = await ffprobeFile(output.path);
  assert.equal(probe.container, 'mp4');
  assert.deepEqual([probe.audio?.codec, probe.audio?.profile], ['aac', 'LC']);
  assert.equal(probe.video, undefined);
  const actual = probe.audio?.bitrate ?? 0;
  assert.ok(
    Math.abs(actual - bitrate) / bitrate < 0.15,
    `${output.quality}: ${actual} bps, wanted ${bitrate}`,
  );
  const boxes = await topLevelBoxes(output.path);
  assert.ok(boxes.indexOf('moov') < boxes.indexOf('mdat'), `not faststart: ${boxes}`);
}

test('M4A with cover art: poster from the cover, rungs the source can fill, audio-only HLS', async () => {
  const outDir = join(dir, 'm4a');
  const outputs: MediaOutput[] = [];
  const result = await processAudio(
    await makeM4aWithCover(dir),
    outDir,
    {},
    { onOutput: (o) => outputs.push(o) },
  );
  assert.deepEqual(result.failures, []);
  // The 192 kbps source cannot fill 256 kbps.
  assert.deepEqual(
    outputs.map((o) => o.quality),
    ['poster', 'low', 'medium', 'hls'],
  );
  const [poster, low, medium, hls] = outputs as [MediaOutput, MediaOutput, MediaOutput, MediaOutput];
  const cover = await ffprobeFile(poster.path);
  assert.deepEqual([cover.video?.codec, cover.video?.width, cover.video?.height], ['webp', 300, 300]);
  await assertAacRendition(low, 64_000);
  await assertAacRendition(medium, 128_000);
  assert.deepEqual([low.width, low.height, low.contentType], [null, null, 'audio/mp4']);

  const master = await readFile(hls.path, 'utf8');
  assert.equal(master.match(/CODECS="mp4a\.40\.2"/g)?.length, 2);
  assert.doesNotMatch(master, /RESOLUTION/);
  const files = new Set(hls.files?.map((f) => join(outDir, 'hls', f.name)));
  for (const file of await hlsReferencedFiles(hls.path)) assert.ok(files.has(file), `${file} missing`);
  const variant = await readFile(join(outDir, 'hls', 'low', 'index.m3u8'), 'utf8');
  // Cut at the AAC frame (21.3 ms at 48 kHz) nearest 6 s.
  assert.ok(Math.abs(Number(variant.match(/#EXTINF:([\d.]+)/)?.[1]) - 6) < 0.05, variant);
});

test('MP3 without cover art: no poster; a low-bitrate source gets only the lowest rung', async () => {
  const plain = await processAudio(await makeMp3(dir, 4, '128k'), join(dir, 'mp3'));
  assert.deepEqual(
    plain.outputs.map((o) => o.quality),
    ['low', 'medium', 'hls'],
  );
  const small = await processAudio(await makeMp3(dir, 4, '64k'), join(dir, 'mp3-64'));
  assert.deepEqual(
    small.outputs.map((o) => o.quality),
    ['low', 'hls'],
  );
});

test('the audio track of a video can be processed; one rendition can be rebuilt alone', async () => {
  const clip = await makeH264Clip(dir, 'clip.mp4', { seconds: 2 });
  const outDir = join(dir, 'from-video');
  const retried = await retryAudioRendition(clip, outDir, 'low');
  await assertAacRendition(retried, 64_000);
});

test('empty and audio-less inputs are rejected with a code', async () => {
  const cases: [string, string][] = [
    [await makeEmpty(dir), 'media_empty'],
    [await makeH264Clip(dir, 'mute.mp4', { audio: false }), 'media_undecodable'],
  ];
  for (const [input, code] of cases) {
    await assert.rejects(processAudio(input, join(dir, 'rejected')), (error: unknown) => {
      assert.ok(error instanceof MediaInputError);
      assert.equal(error.code, code);
      return true;
    });
  }
});
