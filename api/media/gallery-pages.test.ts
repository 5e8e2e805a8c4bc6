import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { MediaView } from '../../contracts/media.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';

/**
 * Paging through a gallery while its owner deletes or adds media (a phone scrolling a grid and deleting as
 * it goes) must neither skip a media nor repeat one: positions are gapless, so every delete shifts the
 * media after it, and a cursor that is a position would land one slot too far.
 */
let api: InProcessApi;
let photo: Buffer;

before(async () => {
  api = await startInProcessApi();
  photo = await makeJpegWithGps(64, 48, { lat: 1, lon: 2 });
});
after(() => api?.stop());

interface Page {
  items: MediaView[];
  nextAfter: string | null;
}

async function gallery(owner: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++)
    ids.push((await api.upload(owner, photo, 'image/jpeg', `${i}.jpg`)).mediaId);
  return ids;
}

async function page(owner: string, after: string | null, limit = 2): Promise<Page> {
  const query = after === null ? `limit=${limit}` : `limit=${limit}&after=${after}`;
  const reply = await api.call(owner, { method: 'GET', url: `/v1/media?owner=me&${query}` });
  assert.equal(reply.statusCode, 200, reply.body);
  return reply.json() as Page;
}

const idsOf = (p: Page) => p.items.map((m) => m.id);

const remove = async (owner: string, mediaId: string) =>
  assert.equal((await api.call(owner, { method: 'DELETE', url: `/v1/media/${mediaId}` })).statusCode, 204);

test('deleting a media already seen does not make the next page skip one', async () => {
  const ids = await gallery('scroller', 6);
  const first = await page('scroller', null);
  assert.deepEqual(idsOf(first), ids.slice(0, 2));
  await remove('scroller', ids[0] as string);
  const second = await page('scroller', first.nextAfter);
  assert.deepEqual(idsOf(second), ids.slice(2, 4));
});

test('the media the cursor names deleted: the next page starts where it stood', async () => {
  const ids = await gallery('pruner', 5);
  const first = await page('pruner', null);
  assert.equal(first.nextAfter, ids[1]);
  await remove('pruner', ids[1] as string);
  const second = await page('pruner', first.nextAfter);
  assert.deepEqual(idsOf(second), ids.slice(2, 4));
});

test('an upload placed at the front meanwhile is not a repeat on the next page', async () => {
  const ids = await gallery('prepender', 4);
  const first = await page('prepender', null);
  const placed = await api.call('prepender', {
    method: 'POST',
    url: '/v1/uploads',
    payload: { filename: 'new.jpg', contentType: 'image/jpeg', size: photo.length, position: 0 },
  });
  assert.equal(placed.statusCode, 201, placed.body);
  const second = await page('prepender', first.nextAfter);
  assert.deepEqual(idsOf(second), ids.slice(2, 4));
  assert.equal(second.nextAfter, ids[3]);
  assert.deepEqual((await page('prepender', second.nextAfter)).items, []);
});

test("a cursor naming someone else's media or none answers as a missing media", async () => {
  const [theirs] = await gallery('owner-of-cursor', 1);
  for (const cursor of [theirs, randomUUID()]) {
    const reply = await api.call('stranger', { method: 'GET', url: `/v1/media?owner=me&after=${cursor}` });
    assert.equal(reply.statusCode, 404, reply.body);
    assert.equal((reply.json() as { code: string }).code, 'media_not_found');
  }
  const malformed = await api.call('stranger', { method: 'GET', url: '/v1/media?owner=me&after=3' });
  assert.equal(malformed.statusCode, 400, malformed.body);
});
