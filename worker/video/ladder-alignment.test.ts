import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { probeMedia } from '../../platform/media/probe.ts';
import type { RungSpec } from './plan.ts';
import { processVideo } from './process-video.ts';
import { makeH264Clip, makeRotatedPhoneClip } from './test-fixtures.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ladder-alignment-test-'));
});
after(() => rm(dir, { recursive: true, force: true }));

// The top rung matches a 320×180 (or 180×320) source and its bitrate, so it is copied when allowed.
const ladder: RungSpec[] = [
  { quality: 'low', height: 90, videoBitrate: 100_000, audioBitrate: 48_000 },
  { quality: 'high', height: 180, videoBitrate: 2_000_000, audioBitrate: 96_000 },
];

/** What a viewer sees: the coded size turned by the display matrix. */
async function presented(path: string): Promise<'portrait' | 'landscape'> {
  const video = (await probeMedia(path)).video;
  assert.ok(video, path);
  return video.displayHeight > video.displayWidth ? 'portrait' : 'landscape';
}

async function segmentSeconds(hlsDir: string, quality: string): Promise<number[]> {
  const playlist = await readFile(join(hlsDir, quality, 'index.m3u8'), 'utf8');
  return [...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
}

test('a portrait phone clip presents portrait in every rung, the copied HLS rung included', async () => {
  // Keyframes every 2 s (25 fps): the top rung may be copied.
  const clip = await makeRotatedPhoneClip(dir, { width: 320, height: 180, seconds: 4, extra: ['-g', '50'] });
  const out = join(dir, 'portrait');
  const result = await processVideo(clip, out, { ladder });
  assert.deepEqual(result.failures, []);
  assert.deepEqual(
    result.plan.renditions.map((r) => r.mode),
    ['transcode', 'remux'],
  );
  for (const quality of ['low', 'high']) {
    assert.equal(await presented(join(out, `${quality}.mp4`)), 'portrait', `${quality}.mp4`);
    assert.equal(await presented(join(out, 'hls', quality, 'index.m3u8')), 'portrait', `HLS ${quality}`);
  }
  assert.match(await readFile(join(out, 'hls', 'master.m3u8'), 'utf8'), /RESOLUTION=180x320/);
});

test('a source with keyframes every 8 s is re-encoded on the 2 s grid: every rung cuts at the same instants', async () => {
  const clip = await makeH264Clip(dir, 'sparse-keyframes.mp4', {
    width: 320,
    height: 180,
    seconds: 14,
    extra: ['-g', '200'],
  });
  const out = join(dir, 'sparse');
  const result = await processVideo(clip, out, { ladder });
  assert.deepEqual(result.failures, []);
  assert.equal(result.probe.video?.keyframes?.maxIntervalSeconds, 8);
  assert.deepEqual(
    result.plan.renditions.map((r) => r.mode),
    ['transcode', 'transcode'],
  );
  const low = await segmentSeconds(join(out, 'hls'), 'low');
  assert.deepEqual(low, [6, 6, 2]);
  assert.deepEqual(await segmentSeconds(join(out, 'hls'), 'high'), low);
});
