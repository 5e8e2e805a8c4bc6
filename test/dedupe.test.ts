import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MediaView } from '../contracts/media.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import {
  createSession,
  keysOf,
  readThroughEdge,
  sendAndComplete,
  sha256,
  stored,
  sweep,
  trace,
  uploadPhoto,
} from './photos.ts';

let platform: Platform;
let photo: Buffer;
let original: MediaView;
const alice = () => apiClient(platform, platform.token('alice'));
const bob = () => apiClient(platform, platform.token('bob'));

before(async () => {
  platform = await startPlatform();
  photo = await makeJpegWithGps(1600, 1200, { lat: 52.52, lon: 13.405 });
  original = await uploadPhoto(alice(), photo, 'IMG_0001.JPG');
  assert.equal(original.status, 'ready', JSON.stringify(original.failure));
});
after(() => platform?.stop());

describe('declared hash', () => {
  test('declaring the hash of a photo you already have returns a ready copy at once, sharing its objects', async () => {
    const reply = await createSession(alice(), photo, { sha256: sha256(photo), filename: 'again.jpg' });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    assert.equal(reply.body.deduplicated, true);
    const copy = reply.body.media;
    assert.notEqual(copy.id, original.id);
    assert.equal(copy.status, 'ready');
    assert.equal(copy.placeholder, original.placeholder);
    assert.deepEqual(copy.metadata, original.metadata, 'the owner sees the same EXIF on the copy');
    assert.deepEqual(
      copy.variants.map((v) => [v.quality, v.bytes]),
      original.variants.map((v) => [v.quality, v.bytes]),
    );

    const gallery = await alice().get<{ items: MediaView[] }>('/v1/media?owner=me');
    assert.deepEqual(
      gallery.body.items.map((m) => [m.id, m.position]),
      [
        [original.id, 0],
        [copy.id, 1],
      ],
      'the copy joins the end of the gallery',
    );

    const [copyTrace, originalTrace] = [await trace(platform, copy.id), await trace(platform, original.id)];
    assert.deepEqual(keysOf(copyTrace), keysOf(originalTrace), 'same physical objects');
    assert.deepEqual(
      copyTrace.outbox.map((o) => o.eventType),
      ['media.ready'],
      'nothing was sent for processing; apps are told the copy is ready',
    );
    assert.deepEqual(
      copyTrace.events.map((e) => [e.fromStatus, e.toStatus, e.detail?.deduplicatedFrom]),
      [[null, 'ready', original.id]],
    );

    const high = (m: MediaView) => m.variants.find((v) => v.quality === 'high')?.url ?? '';
    const fromCopy = await readThroughEdge(high(copy));
    const fromOriginal = await readThroughEdge(high(original));
    assert.equal(fromCopy.status, 302);
    assert.ok(fromCopy.bytes?.equals(fromOriginal.bytes ?? Buffer.alloc(0)));
  });

  test("bob declaring alice's hash gets an ordinary upload session, and his upload stays his own", async () => {
    const reply = await createSession(bob(), photo, { sha256: sha256(photo) });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.equal(reply.body.deduplicated, undefined);
    assert.ok(reply.body.uploadId && reply.body.parts.length > 0);
    const listed = await bob().get<{ items: MediaView[] }>('/v1/media?owner=me');
    assert.deepEqual(
      listed.body.items.map((m) => m.status),
      ['awaiting_upload'],
      "alice's photo is not in bob's gallery",
    );
    for (const v of original.variants) {
      assert.equal((await readThroughEdge(v.url.split('?')[0] ?? '', platform.token('bob'))).status, 403);
    }

    const completed = await sendAndComplete(bob(), reply.body, photo);
    assert.equal(completed.status, 202, JSON.stringify(completed.body));
    const bobs = await bob().waitForMedia(reply.body.mediaId, (m) => m.status !== 'processing');
    assert.equal(bobs.status, 'ready');
    const bobTrace = await trace(platform, bobs.id);
    assert.ok(
      keysOf(bobTrace).every((k) => k.includes(bobs.id)),
      'identical bytes of another owner are never linked',
    );
  });

  test('a hash the caller holds no verified media for, or a size that does not match, starts an upload', async () => {
    const unknown = await createSession(alice(), photo, { sha256: 'ab'.repeat(32) });
    assert.equal(unknown.status, 201, JSON.stringify(unknown.body));
    const wrongSize = await createSession(alice(), photo, { sha256: sha256(photo), size: photo.length + 1 });
    assert.equal(wrongSize.status, 201, JSON.stringify(wrongSize.body));
    for (const s of [unknown.body, wrongSize.body]) {
      assert.equal((await alice().delete(`/v1/uploads/${s.uploadId}`)).status, 204);
    }
  });
});

describe('worker hash', () => {
  test('the same bytes uploaded without a hash end up on the first copy; the duplicate objects are deleted', async () => {
    const again = await uploadPhoto(alice(), photo, 'IMG_0001 (1).JPG');
    assert.equal(again.status, 'ready', JSON.stringify(again.failure));
    const t = await trace(platform, again.id);
    const ready = t.events.find((e) => e.toStatus === 'ready');
    assert.equal(ready?.detail?.deduplicatedFrom, original.id);
    assert.deepEqual(keysOf(t), keysOf(await trace(platform, original.id)));
    assert.deepEqual(
      again.variants.map((v) => [v.quality, v.bytes]),
      original.variants.map((v) => [v.quality, v.bytes]),
    );

    // What the upload and the worker wrote under this media's own id is unreferenced now.
    const request = t.outbox.find((o) => o.eventType === 'media.optimize.request');
    assert.ok(request, 'the upload was sent for processing');
    const uploadedRaw = (request.payload as { objectKey: string }).objectKey;
    const requestId = String(ready?.detail?.requestId);
    const own = [
      uploadedRaw,
      ...['low', 'medium', 'high', 'thumbnail'].map((q) => `derived/${again.id}/${requestId}/${q}.webp`),
    ];
    assert.ok(uploadedRaw.startsWith(`raw/${again.id}/`));
    const report = await sweep(platform);
    assert.ok(report.objectsDeleted >= own.length, JSON.stringify(report));
    for (const key of own) assert.equal(await stored(platform, key), false, `${key} is still stored`);
    for (const key of keysOf(t)) assert.equal(await stored(platform, key), true, `${key} is gone`);
    const high = again.variants.find((v) => v.quality === 'high');
    assert.equal((await readThroughEdge(high?.url ?? '')).status, 302);
  });
});
