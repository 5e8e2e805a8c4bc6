import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';

let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api.stop());

test('completing an upload moves its media to processing', async () => {
  const session = await api.upload(
    'alice',
    await makeJpegWithGps(64, 48, { lat: 1, lon: 2 }),
    'image/jpeg',
    'a.jpg',
  );
  const done = await api.call('alice', {
    method: 'POST',
    url: `/v1/uploads/${session.uploadId}/complete`,
    payload: { parts: session.parts },
  });
  assert.equal(done.statusCode, 202, done.body);
  assert.equal(done.json().status, 'processing');
});
