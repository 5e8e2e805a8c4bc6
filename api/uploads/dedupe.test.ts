import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { assertGapless } from '../../test/upload-facts.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { runStorageSweep } from '../storage/garbage-sweeper.ts';

let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api.stop());

/**
 * A ready media of `owner` holding `bytes`. The worker's result is written as the results consumer
 * records it (status `ready` and the hash the worker computed), since this tier runs no worker.
 */
async function readyMedia(owner: string, bytes: Buffer): Promise<{ mediaId: string; objectKey: string }> {
  const session = await api.upload(owner, bytes, 'image/jpeg');
  const done = await api.call(owner, {
    method: 'POST',
    url: `/v1/uploads/${session.uploadId}/complete`,
    payload: { parts: session.parts },
  });
  assert.equal(done.statusCode, 202, done.body);
  const hash = createHash('sha256').update(bytes).digest('hex');
  const { rows } = await api.database.db.execute<{ object_key: string }>(sql`
    update media set status = 'ready', sha256 = ${hash} where id = ${session.mediaId} returning object_key`);
  return { mediaId: session.mediaId, objectKey: rows[0]?.object_key ?? '' };
}

test('a deduplicated copy racing the deletion of its twin: the copy keeps its bytes, or is a plain upload', async () => {
  const outcomes = { copied: 0, uploaded: 0 };
  for (let round = 0; round < 10; round++) {
    const bytes = await makeJpegWithGps(48 + round, 32, { lat: round, lon: 2 });
    const twin = await readyMedia('zoe', bytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const [created, deleted] = await Promise.all([
      api.call('zoe', {
        method: 'POST',
        url: '/v1/uploads',
        payload: { filename: 'again.jpg', contentType: 'image/jpeg', size: bytes.length, sha256 },
      }),
      api.call('zoe', { method: 'DELETE', url: `/v1/media/${twin.mediaId}` }),
    ]);
    assert.equal(deleted.statusCode, 204, `round ${round}: ${deleted.body}`);
    assert.ok([200, 201].includes(created.statusCode), `round ${round}: ${created.body}`);
    await runStorageSweep(api.database.db, api.ctx.storage, { graceSeconds: 0 });
    const shared = await api.ctx.storage.head(twin.objectKey);
    if (created.statusCode === 200) {
      const copy = created.json().media;
      assert.equal(copy.status, 'ready');
      assert.ok(shared, `round ${round}: the copy's original was deleted with its twin`);
      outcomes.copied += 1;
    } else {
      assert.equal(shared, undefined, `round ${round}: the deleted twin's object was kept`);
      outcomes.uploaded += 1;
    }
    await assertGapless(api, 'zoe');
  }
  console.log(`dedupe vs delete over 10 rounds: ${JSON.stringify(outcomes)}`);
});
