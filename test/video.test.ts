import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { MediaView } from '../contracts/media.ts';
import {
  makeH264Clip,
  makeM4aWithCover,
  makeRotatedPhoneClip,
  topLevelBoxes,
} from '../worker/video/test-fixtures.ts';
import { apiClient, uploadBytes } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';

const run = promisify(execFile);
let platform: Platform;
let dir: string;

before(async () => {
  platform = await startPlatform({ countS3Traffic: true });
  dir = await mkdtemp(join(tmpdir(), 'mediagate-video-'));
});
after(async () => {
  await platform?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const alice = () => apiClient(platform, platform.token('alice'));

async function uploadUntilSettled(path: string, contentType: string): Promise<MediaView> {
  const { mediaId, complete } = await uploadBytes(
    alice(),
    await readFile(path),
    contentType,
    path.split('/').pop(),
  );
  assert.equal(complete.status, 202, JSON.stringify(complete.body));
  return alice().waitForMedia(mediaId, (m) => m.status !== 'processing', 180_000);
}

async function downloadThroughEdge(url: string, name: string): Promise<string> {
  const redirect = await fetch(url, { redirect: 'manual' });
  assert.equal(redirect.status, 302, `${url} → ${redirect.status}`);
  const object = await fetch(redirect.headers.get('location') ?? '');
  assert.equal(object.status, 200);
  const path = join(dir, name);
  await writeFile(path, Buffer.from(await object.arrayBuffer()));
  return path;
}

async function probe(path: string) {
  const { stdout } = await run('ffprobe', ['-v', 'error', '-print_format', 'json', '-show_streams', path]);
  return JSON.parse(stdout).streams as {
    codec_type: string;
    codec_name: string;
    width?: number;
    height?: number;
  }[];
}

describe('video becomes faststart renditions, a poster, thumbnails and HLS', () => {
  let media: MediaView;

  test('a 720p clip with moov at the end reaches ready with its ladder', async () => {
    const clip = await makeH264Clip(dir, 'clip.mp4', { width: 1280, height: 720, seconds: 4 });
    assert.deepEqual(
      (await topLevelBoxes(clip)).filter((b) => b === 'moov' || b === 'mdat'),
      ['mdat', 'moov'],
    );
    media = await uploadUntilSettled(clip, 'video/mp4');
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    const qualities = media.variants.map((v) => v.quality);
    for (const expected of ['poster', 'low', 'medium', 'hls'])
      assert.ok(qualities.includes(expected), qualities.join());
    assert.ok(!qualities.includes('high'), 'a 720p source is never upscaled to 1080p');
    assert.ok(
      qualities.some((q) => q.startsWith('thumbnail')),
      'thumbnail candidates',
    );
    assert.ok(media.url?.includes('/medium.mp4'), `playable url is the best rendition: ${media.url}`);
  });

  test('renditions are H.264/AAC with moov before mdat at their heights', async () => {
    for (const [quality, height] of [
      ['low', 360],
      ['medium', 720],
    ] as const) {
      const variant = media.variants.find((v) => v.quality === quality);
      assert.ok(variant);
      const file = await downloadThroughEdge(variant.url, `${quality}.mp4`);
      const streams = await probe(file);
      assert.equal(streams.find((s) => s.codec_type === 'video')?.codec_name, 'h264');
      assert.equal(streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
      assert.equal(streams.find((s) => s.codec_type === 'video')?.height, height);
      const boxes = (await topLevelBoxes(file)).filter((b) => b === 'moov' || b === 'mdat');
      assert.deepEqual(boxes, ['moov', 'mdat'], `${quality} is faststart`);
    }
  });

  test('the HLS master and every playlist and segment it references load through the edge', async () => {
    const hls = media.variants.find((v) => v.quality === 'hls');
    assert.ok(hls);
    const master = await fetch(hls.url);
    assert.equal(master.status, 200);
    assert.match(master.headers.get('content-type') ?? '', /mpegurl/);
    const pending = [await master.text()];
    let segments = 0;
    while (pending.length > 0) {
      const playlist = pending.pop() as string;
      const refs = [
        ...playlist.split('\n').filter((l) => l.startsWith('http')),
        ...[...playlist.matchAll(/URI="([^"]+)"/g)].map((m) => m[1] as string),
      ];
      for (const ref of refs) {
        const response = await fetch(ref, { redirect: 'manual' });
        if (ref.includes('.m3u8')) {
          assert.equal(response.status, 200, ref);
          pending.push(await response.text());
        } else {
          assert.equal(response.status, 302, ref);
          assert.equal((await fetch(response.headers.get('location') ?? '')).status, 200);
          segments++;
        }
      }
    }
    assert.ok(segments >= 2, `segments fetched: ${segments}`);
  });

  test('a 1080p clip is playable from its lowest rendition while higher ones still encode', async () => {
    const clip = await makeH264Clip(dir, 'long.mp4', { width: 1920, height: 1080, seconds: 8 });
    const { mediaId, complete } = await uploadBytes(alice(), await readFile(clip), 'video/mp4');
    assert.equal(complete.status, 202, JSON.stringify(complete.body));
    const early = await alice().waitForMedia(
      mediaId,
      (m) => m.status !== 'processing' || m.url !== null,
      180_000,
    );
    assert.equal(early.status, 'processing', 'a playable url arrives before the job ends');
    assert.ok(
      early.variants.some((v) => v.quality === 'low'),
      early.variants.map((v) => v.quality).join(),
    );
    assert.ok(early.progress && Object.keys(early.progress).length > 0, 'per-rendition progress is shown');
    const done = await alice().waitForMedia(mediaId, (m) => m.status !== 'processing', 180_000);
    assert.equal(done.status, 'ready', JSON.stringify(done.failure));
    assert.ok(done.url?.includes('/high.mp4'), `the url moved up to the best rendition: ${done.url}`);
    assert.equal(done.progress, null);
  });

  test('a portrait phone clip (rotation metadata) comes out portrait', async () => {
    const phone = await uploadUntilSettled(await makeRotatedPhoneClip(dir, { seconds: 2 }), 'video/mp4');
    assert.equal(phone.status, 'ready', JSON.stringify(phone.failure));
    const low = phone.variants.find((v) => v.quality === 'low');
    assert.ok(low && (low.height ?? 0) > (low.width ?? 0), JSON.stringify(low));
    assert.equal((low.width ?? 1) % 2, 0);
  });

  test('audio with cover art becomes AAC renditions, audio HLS and a poster', async () => {
    const song = await uploadUntilSettled(await makeM4aWithCover(dir, 6), 'audio/mp4');
    assert.equal(song.status, 'ready', JSON.stringify(song.failure));
    const qualities = song.variants.map((v) => v.quality);
    assert.ok(
      qualities.includes('poster') && qualities.includes('hls') && qualities.includes('low'),
      qualities.join(),
    );
    const low = song.variants.find((v) => v.quality === 'low');
    const streams = await probe(await downloadThroughEdge(low?.url ?? '', 'low.m4a'));
    assert.equal(streams.find((s) => s.codec_type === 'audio')?.codec_name, 'aac');
  });

  test('a truncated video is refused with a clear code and its object deleted', async () => {
    const whole = await readFile(await makeH264Clip(dir, 'whole.mp4', { seconds: 2 }));
    const { mediaId, complete } = await uploadBytes(
      alice(),
      whole.subarray(0, Math.floor(whole.length / 3)),
      'video/mp4',
    );
    assert.equal(complete.status, 422, JSON.stringify(complete.body));
    assert.equal(complete.body.code, 'media_unreadable');
    const view = await alice().get<MediaView>(`/v1/media/${mediaId}`);
    assert.equal(view.body.status, 'rejected');
  });
});

describe('the gate reads only what the probe needs', () => {
  let moovAtEnd: string;
  let moovAtStart: string;
  before(async () => {
    // Two minutes of lossless 720p H.264: a 200+ MB phone-like file with ordinary packet sizes.
    moovAtEnd = join(dir, 'big.mp4');
    moovAtStart = join(dir, 'big-faststart.mp4');
    const source = 'testsrc2=size=1280x720:rate=25:duration=120';
    const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p'];
    await run('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', source, ...x264, moovAtEnd]);
    await run('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-i',
      moovAtEnd,
      '-c',
      'copy',
      '-movflags',
      '+faststart',
      moovAtStart,
    ]);
  });

  for (const where of ['end', 'start'] as const) {
    test(`a 200+ MB video with moov at the ${where}: the storage server serves ≤ 1% of it to the gate`, async () => {
      const bytes = await readFile(where === 'end' ? moovAtEnd : moovAtStart);
      assert.ok(bytes.length >= 200_000_000, `${bytes.length} bytes`);
      const { mediaId, complete } = await uploadBytes(alice(), bytes, 'video/mp4');
      assert.equal(complete.status, 202, JSON.stringify(complete.body));
      const admin = apiClient(platform, platform.token('ops', { admin: true }));
      const trace = await admin.get<{ media: { objectKey: string } }>(`/v1/ops/media/${mediaId}/trace`);
      const read = platform.s3Traffic?.rangedBytes(trace.body.media.objectKey) ?? Number.NaN;
      process.stdout.write(
        `# gate read ${read} of ${bytes.length} bytes (${((100 * read) / bytes.length).toFixed(3)}%)\n`,
      );
      assert.ok(read <= bytes.length / 100, `the gate read ${read} of ${bytes.length} bytes`);
      await alice().delete(`/v1/media/${mediaId}`);
    });
  }
});
