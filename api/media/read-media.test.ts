import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { MediaView } from '../../contracts/media.ts';
import { imageResult } from '../../test/image-results.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { applyOptimizeResult } from '../results/apply-result.ts';

/**
 * `GET /v1/media/:id` reads the media and its variants in one statement; the gallery reads a page's variants
 * in a second. Both must show a media the same way, and the visibility rules must hold for each.
 */
let api: InProcessApi;
let photo: Buffer;

before(async () => {
  api = await startInProcessApi();
  photo = await makeJpegWithGps(320, 240, { lat: 1, lon: 2 });
});
after(() => api?.stop());

async function readyMedia(owner: string): Promise<string> {
  const session = await api.uploadCompleted(owner, photo, 'image/jpeg', 'p.jpg');
  // Sizes out of order and AVIF siblings: the view lists the WebP rungs only, smallest first.
  const result = imageResult(
    session.mediaId,
    [
      ['high', 'webp', 9000],
      ['low', 'webp', 1000],
      ['medium', 'webp', 4000],
      ['thumbnail', 'webp', 500],
      ['high-avif', 'avif', 6000],
      ['low-avif', 'avif', 700],
    ],
    { metadata: { camera: 'test' } },
  );
  assert.equal(await applyOptimizeResult(api.ctx.db, randomUUID(), result), 'applied');
  return session.mediaId;
}

const get = (sub: string, mediaId: string) => api.call(sub, { method: 'GET', url: `/v1/media/${mediaId}` });

test('a media reads the same alone and in its gallery: WebP rungs smallest first, metadata for the owner', async () => {
  const mediaId = await readyMedia('reader');
  const alone = await get('reader', mediaId);
  assert.equal(alone.statusCode, 200, alone.body);
  const seen = alone.json() as MediaView;
  assert.deepEqual(
    seen.variants.map((v) => [v.quality, v.format, v.bytes]),
    [
      ['thumbnail', 'webp', 500],
      ['low', 'webp', 1000],
      ['medium', 'webp', 4000],
      ['high', 'webp', 9000],
    ],
  );
  assert.deepEqual(seen.metadata, { camera: 'test' });
  const gallery = (await api.call('reader', { method: 'GET', url: '/v1/media?owner=me' })).json() as {
    items: MediaView[];
  };
  assert.deepEqual(
    gallery.items.find((m) => m.id === mediaId),
    seen,
  );
});

test('a media without variants reads with none', async () => {
  const session = await api.upload('no-variants', photo, 'image/jpeg', 'p.jpg');
  const seen = await get('no-variants', session.mediaId);
  assert.equal(seen.statusCode, 200, seen.body);
  assert.equal((seen.json() as MediaView).status, 'awaiting_upload');
  assert.deepEqual((seen.json() as MediaView).variants, []);
});

test('others see a media only once it is public and ready, without its metadata; nobody sees it deleted', async () => {
  const mediaId = await readyMedia('shy');
  assert.equal((await get('stranger', mediaId)).statusCode, 404);
  const patched = await api.call('shy', {
    method: 'PATCH',
    url: `/v1/media/${mediaId}`,
    payload: { visibility: 'public' },
  });
  assert.equal(patched.statusCode, 200, patched.body);
  const seen = await get('stranger', mediaId);
  assert.equal(seen.statusCode, 200, seen.body);
  assert.equal((seen.json() as MediaView).metadata, null);
  assert.equal((seen.json() as MediaView).variants.length, 4);

  const deleted = await api.call('shy', { method: 'DELETE', url: `/v1/media/${mediaId}` });
  assert.ok(deleted.statusCode < 300, deleted.body);
  for (const sub of ['shy', 'stranger']) {
    const gone = await get(sub, mediaId);
    assert.equal(gone.statusCode, 404, `${sub}: ${gone.body}`);
    assert.equal(gone.json().code, 'media_not_found');
  }
  assert.equal((await get('shy', randomUUID())).statusCode, 404);
});
