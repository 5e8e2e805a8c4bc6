import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MediaView } from '../contracts/media.ts';
import type { Problem } from '../contracts/problem.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { makeJpeg, uploadAs } from './bad-input/fixtures.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { stored, trace } from './photos.ts';
import { type Clamd, eicar, startClamd } from './vendors/clamd.ts';

// A real clamd (with the EICAR signature) scans every original in the worker. No moderation vendor.
let clamd: Clamd;
let platform: Platform;

before(async () => {
  clamd = await startClamd();
  platform = await startPlatform({ env: { CLAMAV_HOST: clamd.host, CLAMAV_PORT: String(clamd.port) } });
});
after(async () => {
  await platform?.stop();
  await clamd?.stop();
});

const alice = () => apiClient(platform, platform.token('alice'));

/** Inserts a COM (comment) segment right after the JPEG's SOI marker. */
function withComment(jpeg: Buffer, comment: Buffer): Buffer {
  const header = Buffer.from([0xff, 0xfe, 0, 0]);
  header.writeUInt16BE(comment.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, comment, jpeg.subarray(2)]);
}

test('the startup logs say which safety checks run: scanning on, moderation off', () => {
  assert.ok(platform.roles.api.output.some((line) => line.includes('moderation is OFF')));
  assert.ok(!platform.roles.worker.output.some((line) => line.includes('virus scanning is OFF')));
});

describe('a photo carrying malware', () => {
  for (const [where, build] of [
    ['appended after the end of the image', (jpeg: Buffer) => Buffer.concat([jpeg, eicar])],
    ['in a JPEG comment segment', (jpeg: Buffer) => withComment(jpeg, eicar)],
  ] as const) {
    test(`EICAR ${where}: passes the gate, then is rejected as malware and deleted`, async () => {
      const bytes = build(await makeJpegWithGps(640, 480, { lat: 52.52, lon: 13.4 }));
      const { mediaId, uploadId, reply } = await uploadAs(alice(), bytes, 'image/jpeg');
      assert.equal(reply.status, 202, 'a real JPEG: the gate cannot tell');

      const media = await alice().waitForMedia(mediaId, (m) => m.status !== 'processing');
      assert.equal(media.status, 'rejected');
      assert.equal(media.failure?.code, 'malware');
      assert.match(media.failure?.detail ?? '', /Eicar/i);
      assert.deepEqual(media.variants, [], 'no derivatives');
      assert.equal(media.url, null);
      assert.equal(media.thumbnailUrl, null);

      const { media: row, variants } = await trace(platform, mediaId);
      assert.deepEqual(variants, []);
      assert.equal(await stored(platform, row.objectKey), false, 'the raw object is deleted');
      const gallery = await alice().get<{ items: MediaView[] }>('/v1/media?owner=me');
      assert.ok(!gallery.body.items.some((m) => m.id === mediaId));
      const again = await alice().post<Problem>(`/v1/uploads/${uploadId}/complete`, {});
      assert.deepEqual([again.status, again.body.code], [422, 'malware']);
    });
  }
});

test('a clean photo is scanned and still reaches ready', async () => {
  const { mediaId, reply } = await uploadAs(alice(), await makeJpeg(), 'image/jpeg');
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  const media = await alice().waitForMedia(mediaId, (m) => m.status !== 'processing');
  assert.equal(media.status, 'ready', JSON.stringify(media.failure));
  assert.ok(media.variants.length > 0);
});
