import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { probeMedia } from '../../platform/media/probe.ts';
import { planVideo } from './plan.ts';
import { buildPoster, buildThumbnailCandidates } from './renditions.ts';
import { makeH264Clip, makeTruncated } from './test-fixtures.ts';

/** Every video that has a frame gets its poster and its thumbnails, however short or cut off it is. */
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'video-stills-'));
});
after(() => rm(dir, { recursive: true, force: true }));

async function stillsOf(path: string, name: string) {
  const plan = planVideo(await probeMedia(path));
  await mkdir(join(dir, name));
  const poster = await buildPoster(path, join(dir, `${name}-poster.webp`), plan.poster);
  const thumbnails = await buildThumbnailCandidates(path, join(dir, name), plan.thumbnails);
  for (const still of [poster, ...thumbnails]) {
    const meta = await sharp(still.path).metadata();
    assert.equal(meta.format, 'webp', `${name} ${still.quality}`);
    assert.ok((meta.width ?? 0) > 0, `${name} ${still.quality} has pixels`);
  }
  return { poster, thumbnails };
}

test('a one-frame video and a half-second one get a poster and three thumbnails', async () => {
  const oneFrame = await makeH264Clip(dir, 'one-frame.mp4', { seconds: 0.04, audio: false });
  assert.equal((await stillsOf(oneFrame, 'one-frame')).thumbnails.length, 3);
  const half = await makeH264Clip(dir, 'half.mp4', { seconds: 0.5, fps: 30, audio: false });
  assert.equal((await stillsOf(half, 'half')).thumbnails.length, 3);
});

test('a video cut off halfway gets its stills from the frames it has', async () => {
  const whole = await makeH264Clip(dir, 'whole.mp4', { seconds: 6, faststart: true });
  const cut = await makeTruncated(whole, 'cut.mp4');
  assert.equal((await stillsOf(cut, 'cut')).thumbnails.length, 3);
});
