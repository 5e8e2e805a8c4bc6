import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { MediaView } from '../contracts/media.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { type Client, createSession, sendAndComplete } from './photos.ts';

let platform: Platform;
let photo: Buffer;
const user = (sub: string) => apiClient(platform, platform.token(sub));

before(async () => {
  platform = await startPlatform();
  photo = await makeJpegWithGps(800, 600, { lat: 59.33, lon: 18.07 });
});
after(() => platform?.stop());

async function gallery(client: Client): Promise<MediaView[]> {
  const reply = await client.get<{ items: MediaView[] }>('/v1/media?owner=me&limit=200');
  assert.equal(reply.status, 200);
  return reply.body.items;
}

/** The gallery, asserted gapless: positions 0..n-1 in list order. Returns the ids in that order. */
async function order(client: Client): Promise<string[]> {
  const items = await gallery(client);
  assert.deepEqual(
    items.map((m) => m.position),
    items.map((_, i) => i),
    'positions are 0..n-1 without gaps',
  );
  return items.map((m) => m.id);
}

async function session(client: Client, contentType = 'image/jpeg') {
  const reply = await createSession(client, photo, { contentType });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  return reply.body;
}

/** An upload completed through the gate; its processing goes on in the background. */
async function completed(client: Client): Promise<string> {
  const created = await session(client);
  assert.equal((await sendAndComplete(client, created, photo)).status, 202);
  return created.mediaId;
}

async function patch(client: Client, mediaId: string, body: Record<string, unknown>) {
  return client.call<MediaView>('PATCH', `/v1/media/${mediaId}`, body);
}

test('positions stay gapless through creates, deletes, aborts and rejections', async () => {
  const carol = user('carol');
  const a = await completed(carol);
  const b = (await session(carol)).mediaId;
  const c = await session(carol);
  const d = await completed(carol);
  assert.deepEqual(await order(carol), [a, b, c.mediaId, d]);

  assert.equal((await carol.delete(`/v1/media/${a}`)).status, 204);
  assert.deepEqual(await order(carol), [b, c.mediaId, d]);

  assert.equal((await carol.delete(`/v1/uploads/${c.uploadId}`)).status, 204);
  assert.deepEqual(await order(carol), [b, d]);

  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c36' } })
    .png()
    .toBuffer();
  const fake = await createSession(carol, png, { filename: 'fake.jpg' });
  assert.deepEqual(await order(carol), [b, d, fake.body.mediaId]);
  const rejected = await sendAndComplete(carol, fake.body, png);
  assert.equal(rejected.status, 422);
  assert.deepEqual(await order(carol), [b, d]);

  const e = (await session(carol)).mediaId;
  assert.deepEqual(await order(carol), [b, d, e], 'a new media joins the end');
});

test('a video is pinned to slot 0 whatever anyone asks', async () => {
  const dave = user('dave');
  const images = [(await session(dave)).mediaId, (await session(dave)).mediaId];
  const video = await session(dave, 'video/mp4');
  assert.deepEqual(await order(dave), [video.mediaId, ...images], 'a video created last still comes first');

  const moved = await patch(dave, images[1] ?? '', { position: 0 });
  assert.equal(moved.status, 200);
  assert.deepEqual(await order(dave), [video.mediaId, images[1], images[0]]);
  await patch(dave, video.mediaId, { position: 2 });
  assert.deepEqual(await order(dave), [video.mediaId, images[1], images[0]], 'the video does not move');
  const late = (await session(dave)).mediaId;
  assert.deepEqual(await order(dave), [video.mediaId, images[1], images[0], late]);
});

test('20 concurrent reorders leave a permutation of 0..n-1', async () => {
  const erin = user('erin');
  const ids: string[] = [];
  for (let i = 0; i < 8; i++) ids.push((await session(erin)).mediaId);
  const video = (await session(erin, 'video/mp4')).mediaId;
  const moves = Array.from({ length: 20 }, (_, i) => ({
    id: ids[(i * 5) % ids.length] ?? '',
    position: (i * 7) % 10,
  }));
  const replies = await Promise.all(moves.map((m) => patch(erin, m.id, { position: m.position })));
  assert.deepEqual(
    replies.map((r) => r.status),
    Array(20).fill(200),
  );
  const final = await order(erin);
  assert.equal(final[0], video);
  assert.deepEqual([...final].sort(), [...ids, video].sort(), 'every media exactly once');
});
