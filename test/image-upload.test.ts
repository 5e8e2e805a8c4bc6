import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Value } from '@sinclair/typebox/value';
import exifr from 'exifr';
import { Kafka, logLevel } from 'kafkajs';
import sharp from 'sharp';
import { LifecycleEvent } from '../contracts/lifecycle.ts';
import type { MediaView } from '../contracts/media.ts';
import type { UploadSession, UploadState } from '../contracts/uploads.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient, putPart, putParts, uploadBytes } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';

const mib = 1024 * 1024;
let platform: Platform;
let photo: Buffer;

before(async () => {
  platform = await startPlatform();
  // A noisy 12 MP photo with GPS EXIF: large enough for two 5 MiB parts, like a phone original.
  photo = await makeJpegWithGps(4000, 3000, { lat: 48.8584, lon: 2.2945 }, 6, true);
  assert.ok(photo.length > 10 * mib, `fixture is ${photo.length} bytes`);
});
after(() => platform?.stop());

const uploadParts = putParts;

async function followEdge(url: string, token?: string) {
  const response = await fetch(url, {
    redirect: 'manual',
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return response;
}

async function fetchThroughEdge(url: string): Promise<Buffer> {
  const redirect = await followEdge(url);
  assert.equal(redirect.status, 302, `edge answered ${redirect.status} for ${url}`);
  const target = redirect.headers.get('location') ?? '';
  assert.ok(!target.startsWith(platform.edgeUrl));
  const object = await fetch(target);
  assert.equal(object.status, 200);
  return Buffer.from(await object.arrayBuffer());
}

describe('a photo uploaded in parts comes back through the edge as a WebP ladder', () => {
  let media: MediaView;
  const alice = () => apiClient(platform, platform.token('alice'));

  test('create → PUT parts → complete → ready', async () => {
    const created = await alice().post<UploadSession>('/v1/uploads', {
      filename: 'IMG_0001.JPG',
      contentType: 'image/jpeg',
      size: photo.length,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.ok(created.body.partCount >= 2);
    assert.equal(created.body.parts.length, created.body.partCount);
    const parts = await uploadParts(created.body, photo);
    const completed = await alice().post<MediaView>(`/v1/uploads/${created.body.uploadId}/complete`, {
      parts,
    });
    assert.equal(completed.status, 202, JSON.stringify(completed.body));
    assert.equal(completed.body.status, 'processing');
    media = await alice().waitForMedia(created.body.mediaId, (m) => m.status !== 'processing');
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));

    const again = await alice().post<MediaView>(`/v1/uploads/${created.body.uploadId}/complete`, { parts });
    assert.equal(again.status, 202, 'completing twice returns the recorded outcome');
    assert.equal(again.body.id, media.id);
  });

  test('every rung is WebP at its width, upright, with no EXIF or GPS', async () => {
    const widths: Record<string, number> = { low: 360, medium: 720, high: 1440 };
    for (const variant of media.variants) {
      const bytes = await fetchThroughEdge(variant.url);
      const meta = await sharp(bytes).metadata();
      assert.equal(meta.format, 'webp', variant.quality);
      assert.equal(meta.exif, undefined, `${variant.quality} carries EXIF`);
      assert.equal(meta.xmp, undefined, `${variant.quality} carries XMP`);
      assert.equal(
        await exifr.gps(bytes).catch(() => undefined),
        undefined,
        `${variant.quality} carries GPS`,
      );
      const expected = widths[variant.quality];
      if (expected) {
        assert.equal(meta.width, expected, variant.quality);
        assert.ok((meta.height ?? 0) > (meta.width ?? 0), 'orientation 6 makes the photo portrait');
      }
      if (variant.quality === 'thumbnail') assert.equal(meta.width, meta.height);
    }
    assert.deepEqual(media.variants.map((v) => v.quality).sort(), ['high', 'low', 'medium', 'thumbnail']);
    assert.ok(media.placeholder && media.placeholder.length > 10);
    assert.ok(media.url && media.thumbnailUrl);
  });

  test('the owner sees the photo metadata with GPS; nobody else sees the media at all', async () => {
    const gps = media.metadata?.gps as { lat: number; lon: number } | undefined;
    assert.ok(gps && Math.abs(gps.lat - 48.8584) < 0.001, JSON.stringify(media.metadata));
    const bob = apiClient(platform, platform.token('bob'));
    assert.equal((await bob.get(`/v1/media/${media.id}`)).status, 404);
    const list = await bob.get<{ items: MediaView[] }>('/v1/media?owner=me');
    assert.equal(list.status, 200);
    assert.ok(!list.body.items.some((m) => m.id === media.id));
    const own = await alice().get<{ items: MediaView[] }>('/v1/media?owner=me');
    assert.ok(own.body.items.some((m) => m.id === media.id));
  });

  test('the edge answers 401 without credentials, 403 to another user, 302 to the owner, 404 for unknown keys', async () => {
    const plain = (media.variants[0]?.url ?? '').split('?')[0] as string;
    assert.equal((await followEdge(plain)).status, 401);
    assert.equal((await followEdge(plain, platform.token('bob'))).status, 403);
    assert.equal((await followEdge(plain, platform.token('alice'))).status, 302);
    assert.equal((await followEdge(plain, platform.token('ops', { admin: true }))).status, 302);
    assert.equal(
      (await followEdge(`${platform.edgeUrl}/m/derived/nope/x.webp`, platform.token('alice'))).status,
      404,
    );
    const forged = `${plain}?token=${'x'.repeat(20)}.${'y'.repeat(43)}`;
    assert.equal((await followEdge(forged)).status, 403);
  });
});

describe('resuming, aborting and other users', () => {
  const alice = () => apiClient(platform, platform.token('alice'));
  const bob = () => apiClient(platform, platform.token('bob'));

  test('a client that lost its connection sees which parts storage holds and gets fresh URLs for the rest', async () => {
    const created = await alice().post<UploadSession>('/v1/uploads', {
      filename: 'resume.jpg',
      contentType: 'image/jpeg',
      size: photo.length,
    });
    await uploadParts(created.body, photo, [1]);
    const state = await alice().get<UploadState>(`/v1/uploads/${created.body.uploadId}`);
    assert.equal(state.status, 200);
    assert.deepEqual(
      state.body.uploadedParts.map((p) => p.partNumber),
      [1],
    );
    const rest = Array.from({ length: created.body.partCount - 1 }, (_, i) => i + 2);
    const fresh = await alice().post<{ parts: UploadSession['parts'] }>(
      `/v1/uploads/${created.body.uploadId}/parts`,
      {
        partNumbers: rest,
      },
    );
    assert.equal(fresh.status, 200);
    await uploadParts({ ...created.body, parts: fresh.body.parts }, photo);
    const done = await alice().post<MediaView>(`/v1/uploads/${created.body.uploadId}/complete`, {});
    assert.equal(done.status, 202, JSON.stringify(done.body));
  });

  test('an aborted upload frees its parts and cannot be completed', async () => {
    const created = await alice().post<UploadSession>('/v1/uploads', {
      filename: 'abort.jpg',
      contentType: 'image/jpeg',
      size: photo.length,
    });
    await uploadParts(created.body, photo, [1]);
    assert.equal((await alice().delete(`/v1/uploads/${created.body.uploadId}`)).status, 204);
    const state = await alice().get<UploadState>(`/v1/uploads/${created.body.uploadId}`);
    assert.equal(state.body.state, 'aborted');
    // The part's own bytes: its URL is signed for their length, so only the missing upload can refuse them.
    // Storage may answer before it has read the body and close the connection: the client then sees a reset.
    const late = await putPart(
      created.body.parts[1]?.url ?? '',
      photo.subarray(created.body.partSize, 2 * created.body.partSize),
    ).then(
      (reply) => reply.status,
      (error: { cause?: { code?: string } }) => error.cause?.code,
    );
    assert.ok(
      [404, 'ECONNRESET', 'EPIPE'].includes(late ?? ''),
      `storage no longer knows the upload: ${late}`,
    );
    const complete = await alice().post<{ code: string }>(
      `/v1/uploads/${created.body.uploadId}/complete`,
      {},
    );
    assert.equal(complete.status, 409);
    assert.equal(complete.body.code, 'upload_not_open');
    assert.equal((await alice().get(`/v1/media/${created.body.mediaId}`)).status, 404);
  });

  test("another user can neither read, refresh, complete nor abort someone's upload", async () => {
    const created = await alice().post<UploadSession>('/v1/uploads', {
      filename: 'mine.jpg',
      contentType: 'image/jpeg',
      size: photo.length,
    });
    const id = created.body.uploadId;
    for (const reply of [
      await bob().get<{ code: string }>(`/v1/uploads/${id}`),
      await bob().post<{ code: string }>(`/v1/uploads/${id}/parts`, { partNumbers: [1] }),
      await bob().post<{ code: string }>(`/v1/uploads/${id}/complete`, {}),
      await bob().delete<{ code: string }>(`/v1/uploads/${id}`),
    ]) {
      assert.equal(reply.status, 404);
      assert.equal(reply.body.code, 'upload_not_found');
      assert.match(reply.headers.get('content-type') ?? '', /application\/problem\+json/);
    }
    assert.equal((await bob().get(`/v1/media/${created.body.mediaId}`)).status, 404);
  });

  test('a file whose bytes are not what it declares is rejected and deleted', async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#36c' } })
      .png()
      .toBuffer();
    const created = await alice().post<UploadSession>('/v1/uploads', {
      filename: 'fake.jpg',
      contentType: 'image/jpeg',
      size: png.length,
    });
    await uploadParts(created.body, png);
    const complete = await alice().post<{ code: string }>(
      `/v1/uploads/${created.body.uploadId}/complete`,
      {},
    );
    assert.equal(complete.status, 422);
    assert.equal(complete.body.code, 'type_mismatch');
    const media = await alice().get<MediaView>(`/v1/media/${created.body.mediaId}`);
    assert.equal(media.body.status, 'rejected');
    assert.equal(media.body.failure?.code, 'type_mismatch');
  });
});

describe('apps hear the lifecycle on Kafka', () => {
  test('a plain Kafka consumer of media.lifecycle sees ready, then deleted, keyed by the media', async (t) => {
    const owner = 'lifecycle-carol';
    const app = await lifecycleConsumer(owner);
    try {
      const carol = apiClient(platform, platform.token(owner));
      const small = await makeJpegWithGps(640, 480, { lat: 45.76, lon: 4.83 });
      const completedAt = performance.now();
      const { mediaId, complete } = await uploadBytes(carol, small, 'image/jpeg', 'carol.jpg');
      assert.equal(complete.status, 202, JSON.stringify(complete.body));
      const ready = await carol.waitForMedia(mediaId, (m) => m.status !== 'processing');
      assert.equal(ready.status, 'ready', JSON.stringify(ready.failure));
      const readyHeard = await app.heard('media.ready');
      const deletedAt = performance.now();
      assert.equal((await carol.delete(`/v1/media/${mediaId}`)).status, 204);
      const deletedHeard = await app.heard('media.deleted');
      t.diagnostic(
        `upload → media.ready heard ${Math.round(readyHeard - completedAt)} ms; ` +
          `DELETE answered → media.deleted heard ${Math.round(deletedHeard - deletedAt)} ms`,
      );

      assert.deepEqual(
        app.seen.map((s) => s.event.type),
        ['media.ready', 'media.deleted'],
      );
      for (const { key, eventId, event } of app.seen) {
        assert.equal(key, mediaId);
        assert.equal(eventId, event.id, 'the event-id header is the payload id');
        assert.ok(Value.Check(LifecycleEvent, event), JSON.stringify(event));
      }
      const deleted = app.seen[1]?.event;
      assert.ok(deleted?.type === 'media.deleted');
      assert.equal(deleted.data.by, 'owner');
    } finally {
      await app.stop();
    }
  });
});

/**
 * An app's own consumer of the lifecycle topic (its own group, from the beginning), keeping the events of
 * one owner's media with the moment each arrived. It starts once the api reports ready, which it does only
 * after creating the topic, and returns once it has joined, so what follows is heard live.
 */
async function lifecycleConsumer(ownerId: string) {
  const deadline = Date.now() + 60_000;
  while ((await fetch(`${platform.apiUrl}/readyz`)).status !== 200) {
    assert.ok(Date.now() < deadline, 'the api never became ready');
    await sleep(200);
  }
  const topic = `${platform.env.KAFKA_TOPIC_PREFIX}lifecycle`;
  const kafka = new Kafka({
    brokers: (platform.env.KAFKA_BROKERS ?? '').split(','),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `app-${ownerId}` });
  const seen: { key: string; eventId: string; event: LifecycleEvent; at: number }[] = [];
  const joined = new Promise((resolve) => consumer.on(consumer.events.GROUP_JOIN, resolve));
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const event = JSON.parse(message.value?.toString() ?? 'null') as LifecycleEvent;
      if (event.data.ownerId !== ownerId) return;
      const key = message.key?.toString() ?? '';
      const eventId = message.headers?.['event-id']?.toString() ?? '';
      seen.push({ key, eventId, event, at: performance.now() });
    },
  });
  await joined;
  return {
    seen,
    /** When the first event of `type` arrived, waiting for it up to a minute. */
    async heard(type: LifecycleEvent['type']): Promise<number> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const hit = seen.find((s) => s.event.type === type);
        if (hit) return hit.at;
        assert.ok(Date.now() < deadline, `no ${type} heard: ${JSON.stringify(seen)}`);
        await sleep(20);
      }
    },
    stop: () => consumer.disconnect(),
  };
}
