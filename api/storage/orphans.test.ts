import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { hlsObjectKey } from '../../contracts/object-keys.ts';
import { storageGarbage } from '../../db/schema.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { applyOptimizeResult } from '../results/apply-result.ts';
import { queueOrphans } from './orphans.ts';

/**
 * The orphan scan on the real schema and storage: an HLS package's playlists and segments have no rows of
 * their own (only the master is a variant), yet a ready video's must never be queued for deletion.
 */
let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api?.stop());

test("a ready video's HLS segments and playlists are kept; a replaced package's and stray objects are queued", async () => {
  const owner = 'orphan-owner';
  const photo = await makeJpegWithGps(64, 48, { lat: 1, lon: 2 });
  const session = await api.uploadCompleted(owner, photo, 'image/jpeg', 'p.jpg');
  const { mediaId } = session;
  const [live, replaced] = [randomUUID(), randomUUID()];
  const master = hlsObjectKey(mediaId, live, 'master.m3u8');
  await applyOptimizeResult(api.ctx.db, randomUUID(), {
    mediaId,
    requestId: live,
    success: true,
    processed: [
      { quality: 'hls', format: 'm3u8', key: master, url: '', width: null, height: null, size: 10 },
    ],
    sha256: null,
    metadata: {},
  });
  const kept = [
    master,
    hlsObjectKey(mediaId, live, 'low/index.m3u8'),
    hlsObjectKey(mediaId, live, 'low/0.ts'),
  ];
  const gone = [hlsObjectKey(mediaId, replaced, 'low/0.ts'), `derived/${mediaId}/${replaced}/low.mp4`];
  const lister = {
    async *listKeys(prefix: string) {
      for (const key of [...kept, ...gone])
        if (key.startsWith(prefix)) yield { key, lastModified: new Date(0) };
    },
  };
  assert.equal(await queueOrphans(api.ctx.db, lister, 0), gone.length);
  const queued = await api.ctx.db.select().from(storageGarbage);
  for (const key of kept)
    assert.equal(
      queued.some((g) => g.objectKey === key),
      false,
      `${key} is kept`,
    );
  for (const key of gone) {
    const [row] = await api.ctx.db.select().from(storageGarbage).where(eq(storageGarbage.objectKey, key));
    assert.ok(row, `${key} is queued`);
  }
});
