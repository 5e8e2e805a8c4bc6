import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';

/**
 * A move the gallery cannot make (an image into the video's slot 0, a video out of it, past the end) is
 * clamped, and the answer says where the media actually is, never where it was asked to go.
 */
let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api?.stop());

const owner = 'gallery-owner';
async function created(contentType: string): Promise<string> {
  const reply = await api.call(owner, {
    method: 'POST',
    url: '/v1/uploads',
    payload: { filename: 'f', contentType, size: 1000 },
  });
  assert.equal(reply.statusCode, 201, reply.body);
  return reply.json().mediaId;
}
async function move(id: string, position: number): Promise<number> {
  const reply = await api.call(owner, { method: 'PATCH', url: `/v1/media/${id}`, payload: { position } });
  assert.equal(reply.statusCode, 200, reply.body);
  return reply.json().position;
}

test('the answer to a move shows the position the media holds', async () => {
  const first = await created('image/jpeg');
  const second = await created('image/jpeg');
  const video = await created('video/mp4');
  assert.equal(await move(second, 0), 1, "slot 0 is the video's: the image lands in slot 1");
  assert.equal(await move(video, 2), 0, 'the video stays in slot 0');
  assert.equal(await move(first, 99), 2, 'past the end is the end');
  const gallery = (await api.call(owner, { method: 'GET', url: '/v1/media?owner=me' })).json() as {
    items: { id: string; position: number }[];
  };
  assert.deepEqual(
    gallery.items.map((m) => [m.id, m.position]),
    [
      [video, 0],
      [second, 1],
      [first, 2],
    ],
  );
});
