import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MediaView } from '../contracts/media.ts';
import type { Stats } from '../contracts/stats.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { createSession, sha256, sweep, trace, uploadPhoto } from './photos.ts';

let platform: Platform;
const alice = () => apiClient(platform, platform.token('alice'));
const bob = () => apiClient(platform, platform.token('bob'));
const ops = () => apiClient(platform, platform.token('ops', { admin: true }));

before(async () => {
  platform = await startPlatform();
});
after(() => platform?.stop());

/** Bytes a media holds in storage: its original and every variant. */
/** What a media holds in storage: its original and every variant row, AVIF siblings included. */
async function held(m: MediaView): Promise<{ objects: number; bytes: number }> {
  const { variants } = await trace(platform, m.id);
  return { objects: 1 + variants.length, bytes: m.size + variants.reduce((sum, v) => sum + v.bytes, 0) };
}

async function stats(): Promise<Stats> {
  const reply = await ops().get<Stats>('/v1/ops/stats');
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body;
}

test('operators only', async () => {
  const reply = await alice().get<{ code: string }>('/v1/ops/stats');
  assert.equal(reply.status, 403);
  assert.equal(reply.body.code, 'admin_required');
});

test('storage held and saved, uploads per day and processing health, from real uploads', async (t) => {
  const empty = await stats();
  assert.deepEqual(empty.storage, { objects: 0, bytesStored: 0, bytesSavedByDedupe: 0 });
  assert.deepEqual(empty.processing.failureRate, null);

  const photoA = await makeJpegWithGps(1600, 1200, { lat: 10, lon: 20 });
  const photoB = await makeJpegWithGps(1200, 1600, { lat: 30, lon: 40 });
  const a = await uploadPhoto(alice(), photoA);
  const b = await uploadPhoto(bob(), photoB);
  for (let i = 0; i < 2; i++) {
    const copy = await createSession(alice(), photoA, { sha256: sha256(photoA) });
    assert.equal(copy.status, 200, JSON.stringify(copy.body));
  }
  const linked = await uploadPhoto(alice(), photoA, 'again.jpg');
  // Cut in half: the gate reads a valid header, the worker cannot decode the rest.
  const broken = await uploadPhoto(alice(), photoA.subarray(0, photoA.length >> 1), 'broken.jpg');
  assert.deepEqual(
    [a, b, linked, broken].map((m) => m.status),
    ['ready', 'ready', 'ready', 'failed'],
  );
  await sweep(platform);

  const s = await stats();
  const [heldA, heldB] = await Promise.all([held(a), held(b)]);
  assert.deepEqual(s.storage, {
    objects: heldA.objects + heldB.objects + 1,
    bytesStored: heldA.bytes + heldB.bytes + broken.size,
    // Two declared copies and one upload linked by the worker's hash all share a's objects.
    bytesSavedByDedupe: 3 * heldA.bytes,
  });
  t.diagnostic(`dedupe saved ${s.storage.bytesSavedByDedupe} bytes of ${s.storage.bytesStored} stored`);

  const today = new Date().toISOString().slice(0, 10);
  assert.deepEqual(s.uploadsPerDay, [{ day: today, kind: 'image', uploads: 6 }]);

  assert.equal(s.processing.ready, 3);
  assert.equal(s.processing.failed, 1);
  assert.equal(s.processing.failureRate, 0.25);
  const { p50, p95 } = s.processing.timeToReadySeconds;
  assert.ok(p50 !== null && p95 !== null && p50 > 0 && p95 >= p50, JSON.stringify(s.processing));
  t.diagnostic(`time to ready p50 ${p50?.toFixed(3)} s, p95 ${p95?.toFixed(3)} s`);
});
