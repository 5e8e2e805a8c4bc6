import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { imageResult } from '../../test/image-results.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { assertGapless } from '../../test/upload-facts.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { applyOptimizeResult } from '../results/apply-result.ts';
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
  const session = await api.uploadCompleted(owner, bytes, 'image/jpeg');
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

test('a deduplicated copy answers with the view it then reads with: the twin’s WebP rungs, smallest first', async () => {
  const bytes = await makeJpegWithGps(64, 48, { lat: 3, lon: 4 });
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const session = await api.uploadCompleted('yan', bytes, 'image/jpeg');
  const applied = await applyOptimizeResult(
    api.ctx.db,
    randomUUID(),
    imageResult(
      session.mediaId,
      [
        ['high', 'webp', 900],
        ['low', 'webp', 100],
        ['thumbnail', 'webp', 50],
        ['high-avif', 'avif', 600],
      ],
      { sha256 },
    ),
  );
  assert.equal(applied, 'applied');

  const created = await api.call('yan', {
    method: 'POST',
    url: '/v1/uploads',
    payload: { filename: 'again.jpg', contentType: 'image/jpeg', size: bytes.length, sha256 },
  });
  assert.equal(created.statusCode, 200, created.body);
  const copy = created.json().media;
  assert.deepEqual(
    copy.variants.map((v: { quality: string; bytes: number }) => [v.quality, v.bytes]),
    [
      ['thumbnail', 50],
      ['low', 100],
      ['high', 900],
    ],
  );
  const read = await api.call('yan', { method: 'GET', url: `/v1/media/${copy.id}` });
  assert.equal(read.statusCode, 200, read.body);
  assert.deepEqual(read.json(), copy);
});
