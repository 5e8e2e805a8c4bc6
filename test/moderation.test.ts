import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { MediaView } from '../contracts/media.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { makeJpeg, uploadAs } from './bad-input/fixtures.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { createSession, sendAndComplete, stored, trace } from './photos.ts';
import { type Judge, startSightengineJudge } from './vendors/colour-judges.ts';
import { type SightengineDouble, startSightengineDouble } from './vendors/sightengine-double.ts';

// Sightengine judges every upload at the gate. Its double answers in Sightengine's wire format; a judge in
// front of it scores mostly red pictures as gore 0.93, over the default threshold of 0.6.
let double: SightengineDouble;
let judge: Judge;
let platform: Platform;
let workDir: string;

before(async () => {
  double = await startSightengineDouble();
  judge = await startSightengineJudge(double, { red: { 'gore.prob': 0.93 } });
  workDir = await mkdtemp(join(tmpdir(), 'mediagate-moderation-'));
  platform = await startPlatform({
    env: {
      SIGHTENGINE_API_USER: double.apiUser,
      SIGHTENGINE_API_SECRET: double.apiSecret,
      SIGHTENGINE_BASE_URL: judge.url,
    },
  });
});
after(async () => {
  await platform?.stop();
  await judge?.close();
  await double?.close();
  await rm(workDir, { recursive: true, force: true });
});

const run = promisify(execFile);
const red = (): Promise<Buffer> => makeJpeg([200 + randomInt(55), 20, 20]);
const alice = () => apiClient(platform, platform.token('alice'));
const bob = () => apiClient(platform, platform.token('bob'));
/** What `work` returned, and how many vendor calls it took. */
async function counting<T>(work: () => Promise<T>): Promise<{ result: T; calls: number }> {
  const before = double.calls;
  const result = await work();
  return { result, calls: double.calls - before };
}

describe('images', () => {
  test('the startup log names no lack of moderation', () => {
    assert.ok(!platform.roles.api.output.some((line) => line.includes('moderation is OFF')));
  });

  test('a picture scored over the threshold is refused at completion and deleted from storage', async () => {
    const bytes = await red();
    const { result, calls } = await counting(() => uploadAs(alice(), bytes, 'image/jpeg'));
    assert.equal(calls, 1);
    const { mediaId, reply } = result;
    assert.equal(reply.status, 422, JSON.stringify(reply.body));
    assert.equal(reply.body.code, 'moderation_rejected');
    assert.match(reply.body.detail ?? '', /gore 0\.93/);
    const sent = double.requests.at(-1);
    assert.equal(sent?.mediaType, 'image/jpeg');
    assert.deepEqual(sent?.models, ['nudity-2.1', 'weapon', 'gore-2.0']);

    const media = await alice().get<MediaView>(`/v1/media/${mediaId}`);
    assert.equal(media.body.status, 'rejected');
    assert.equal(media.body.failure?.code, 'moderation_rejected');
    assert.equal(await stored(platform, (await trace(platform, mediaId)).media.objectKey), false);
  });

  test('a clean picture is accepted and becomes ready', async () => {
    const { mediaId, reply } = await uploadAs(alice(), await makeJpeg(), 'image/jpeg');
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const media = await alice().waitForMedia(mediaId, (m) => m.status !== 'processing');
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
  });

  test('identical content is judged once, whoever uploads it', async () => {
    const bytes = await makeJpeg();
    const first = await counting(() => uploadAs(alice(), bytes, 'image/jpeg'));
    const second = await counting(() => uploadAs(bob(), bytes, 'image/jpeg'));
    assert.deepEqual([first.result.reply.status, second.result.reply.status], [202, 202]);
    assert.deepEqual([first.calls, second.calls], [1, 0], 'the second upload was judged from the cache');

    const refused = await red();
    const third = await counting(() => uploadAs(alice(), refused, 'image/jpeg'));
    const fourth = await counting(() => uploadAs(bob(), refused, 'image/jpeg'));
    assert.deepEqual([third.result.reply.status, fourth.result.reply.status], [422, 422]);
    assert.equal(fourth.result.reply.body.code, 'moderation_rejected');
    assert.deepEqual([third.calls, fourth.calls], [1, 0], 'a cached rejection refuses without the vendor');
  });

  test('a truncated JPEG the header probe accepts is refused as unreadable once decoded for moderation', async () => {
    const whole = await makeJpegWithGps(800, 600, { lat: 1, lon: 2 });
    const { reply } = await uploadAs(alice(), whole.subarray(0, whole.length >> 1), 'image/jpeg');
    assert.equal(reply.status, 422, JSON.stringify(reply.body));
    assert.equal(reply.body.code, 'media_unreadable');
  });
});

describe('vendor outages', () => {
  test('the vendor failing answers 503 with Retry-After, keeps the upload, and completing later succeeds', async () => {
    const bytes = await makeJpeg();
    const created = await createSession(alice(), bytes);
    double.fail({ status: 503 }, { status: 503 }, { status: 503 });
    const down = await sendAndComplete(alice(), created.body, bytes);
    assert.equal(down.status, 503, JSON.stringify(down.body));
    assert.equal(down.body.code, 'moderation_unavailable');
    assert.ok(
      Number(down.headers.get('retry-after')) >= 1,
      `Retry-After: ${down.headers.get('retry-after')}`,
    );

    const { mediaId, uploadId } = created.body;
    const waiting = await alice().get<MediaView>(`/v1/media/${mediaId}`);
    assert.equal(waiting.body.status, 'awaiting_upload');
    assert.equal(await stored(platform, (await trace(platform, mediaId)).media.objectKey), true);

    const up = await alice().post<MediaView>(`/v1/uploads/${uploadId}/complete`, {});
    assert.equal(up.status, 202, JSON.stringify(up.body));
    const media = await alice().waitForMedia(mediaId, (m) => m.status !== 'processing');
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
  });

  test('a vendor asking to wait has its Retry-After passed on to the client', async () => {
    const bytes = await makeJpeg();
    const created = await createSession(alice(), bytes);
    double.fail({ status: 429, retryAfter: '7' });
    const limited = await sendAndComplete(alice(), created.body, bytes);
    assert.equal(limited.status, 503, JSON.stringify(limited.body));
    assert.equal(limited.body.code, 'moderation_unavailable');
    assert.equal(limited.headers.get('retry-after'), '7');
    const later = await alice().post(`/v1/uploads/${created.body.uploadId}/complete`, {});
    assert.equal(later.status, 202, JSON.stringify(later.body));
  });
});

describe('videos', () => {
  /** An H.264 MP4 of lavfi sources played one after another, `seconds` each. */
  async function clip(name: string, sources: string[], seconds = 10): Promise<Buffer> {
    const path = join(workDir, `${name}.mp4`);
    const size = `duration=${seconds}:size=320x240:rate=5`;
    const inputs = sources.map((s) => ['-f', 'lavfi', '-i', `${s}${s.includes('=') ? ':' : '='}${size}`]);
    const joined = `${sources.map((_, i) => `[${i}:v]`).join('')}concat=n=${sources.length}:v=1:a=0`;
    const h264 = '-c:v libx264 -preset ultrafast -g 10 -pix_fmt yuv420p -movflags +faststart'.split(' ');
    await run('ffmpeg', ['-v', 'error', '-y', ...inputs.flat(), '-filter_complex', joined, ...h264, path]);
    return readFile(path);
  }

  test('a video is judged on several frames sampled by ffmpeg', async () => {
    const video = await clip('clean', ['testsrc', 'testsrc2', 'testsrc']);
    const before = double.requests.length;
    const { reply } = await uploadAs(alice(), video, 'video/mp4');
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const frames = double.requests.slice(before);
    assert.ok(frames.length >= 3, `the vendor saw ${frames.length} frame(s)`);
    assert.ok(frames.every((f) => f.mediaType === 'image/jpeg' && (f.mediaBytes ?? 0) > 0));
  });

  test('one bad frame in the middle is enough to refuse the video', async () => {
    const video = await clip('red-middle', ['testsrc', 'color=c=red', 'testsrc']);
    const { reply } = await uploadAs(alice(), video, 'video/mp4');
    assert.equal(reply.status, 422, JSON.stringify(reply.body));
    assert.equal(reply.body.code, 'moderation_rejected');
  });
});
