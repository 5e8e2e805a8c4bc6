import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { FfmpegError } from '../../platform/media/run-ffmpeg.ts';
import { ffprobeFile } from '../ffmpeg/probe.ts';
import { buildPoster, buildRendition, buildThumbnailCandidates, remuxFaststart } from './renditions.ts';
import { makeH264Clip, makeLongTinyClip, makeRotatedPhoneClip, topLevelBoxes } from './test-fixtures.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'renditions-test-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

test('remuxFaststart moves moov before mdat and copies the streams untouched', async () => {
  const input = await makeH264Clip(dir, 'moov-at-end.mp4');
  const boxes = await topLevelBoxes(input);
  assert.ok(boxes.indexOf('mdat') < boxes.indexOf('moov'), `fixture is not moov-at-end: ${boxes}`);
  const out = join(dir, 'remuxed.mp4');
  const bytes = await remuxFaststart(input, out);
  const outBoxes = await topLevelBoxes(out);
  assert.ok(outBoxes.indexOf('moov') < outBoxes.indexOf('mdat'), `not faststart: ${outBoxes}`);
  const [source, copy] = [await ffprobeFile(input), await ffprobeFile(out)];
  assert.equal(copy.sizeBytes, bytes);
  assert.equal(copy.video?.profile, source.video?.profile);
  assert.equal(copy.video?.bitrate, source.video?.bitrate);
  assert.equal(copy.audio?.codec, 'aac');
});

test('remuxing keeps a phone clip’s display matrix and drops its location', async () => {
  const out = join(dir, 'phone-remuxed.mp4');
  await remuxFaststart(await makeRotatedPhoneClip(dir), out);
  const probe = await ffprobeFile(out);
  assert.equal(probe.video?.rotation, 90);
  const { stdout } = await promisify(execFile)('ffprobe', [
    '-v',
    'error',
    '-show_format',
    '-of',
    'json',
    out,
  ]);
  assert.doesNotMatch(stdout, /location|48\.8584/);
});

test('a rendition killed by its timeout leaves nothing behind', async () => {
  // Turned into 720p60 at preset slow, ten minutes of anything takes far longer than the budget.
  const input = await makeLongTinyClip(dir);
  const out = join(dir, 'timeout', 'medium.mp4');
  await mkdir(join(dir, 'timeout'));
  let partialSeen = false;
  const rendition = {
    quality: 'medium' as const,
    mode: 'transcode' as const,
    width: 1280,
    height: 720,
    outputArgs: ['-vf', 'scale=1280:720', '-r', '60', '-c:v', 'libx264', '-preset', 'slow', '-f', 'mp4'],
  };
  const started = performance.now();
  await assert.rejects(
    buildRendition(input, out, rendition, { timeoutMs: 1500, durationSeconds: 600 }, () => {
      partialSeen ||= existsSync(`${out}.partial`);
    }),
    (error: unknown) => error instanceof FfmpegError && error.reason === 'timeout',
  );
  assert.ok(performance.now() - started < 5000);
  assert.ok(partialSeen, 'ffmpeg had started writing before it was killed');
  assert.deepEqual(await readdir(join(dir, 'timeout')), []);
});

test('poster and thumbnails are WebP at the planned size', async () => {
  const input = await makeRotatedPhoneClip(dir, { seconds: 4 });
  const outDir = join(dir, 'stills');
  await mkdir(outDir);
  const poster = await buildPoster(input, join(outDir, 'poster.webp'), {
    atSeconds: 0.4,
    width: 360,
    height: 640,
  });
  assert.equal(poster.contentType, 'image/webp');
  const probed = await ffprobeFile(poster.path);
  assert.deepEqual([probed.video?.codec, probed.video?.width, probed.video?.height], ['webp', 360, 640]);

  const thumbs = await buildThumbnailCandidates(input, outDir, {
    atSeconds: [0.2, 2, 3.8],
    width: 180,
    height: 320,
  });
  assert.deepEqual(
    thumbs.map((t) => t.quality),
    ['thumbnail-1', 'thumbnail-2', 'thumbnail-3'],
  );
  for (const thumb of thumbs) {
    const probe = await ffprobeFile(thumb.path);
    assert.deepEqual([probe.video?.width, probe.video?.height], [180, 320]);
    assert.ok(thumb.bytes > 0);
  }
});

test('a poster asked past the last frame shows the first one, and no partial file is left', async () => {
  const input = await makeH264Clip(dir, 'short.mp4', { seconds: 1 });
  const path = join(dir, 'late-poster.webp');
  const poster = await buildPoster(input, path, { atSeconds: 30, width: 320, height: 180 });
  assert.ok(poster.bytes > 0);
  assert.equal((await sharp(path).metadata()).format, 'webp');
  assert.equal(await exists(`${path}.partial`), false);
});
