import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import type { OptimizeResult } from '../../contracts/events.ts';
import type { MediaView } from '../../contracts/media.ts';
import { media, mediaEvent, storageGarbage } from '../../db/schema.ts';
import { imageResult } from '../../test/image-results.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { applyPartialResult } from './apply-partial.ts';
import { applyOptimizeResult } from './apply-result.ts';

/**
 * Results as the worker publishes them, applied to media on the real schema: failures and missing outputs
 * are what the owner sees, and every status move is compare-and-set, so a late or repeated result never
 * overwrites a newer outcome.
 */
let api: InProcessApi;
let photo: Buffer;

before(async () => {
  api = await startInProcessApi();
  photo = await makeJpegWithGps(320, 240, { lat: 1, lon: 2 });
});
after(() => api?.stop());

/** A media the gate let through: `processing`, its optimize request queued. */
async function processingMedia(owner: string): Promise<string> {
  const session = await api.uploadCompleted(owner, photo, 'image/jpeg', 'p.jpg');
  return session.mediaId;
}

const view = async (owner: string, mediaId: string) => {
  const reply = await api.call(owner, { method: 'GET', url: `/v1/media/${mediaId}` });
  assert.equal(reply.statusCode, 200, reply.body);
  return reply.json() as MediaView;
};

const result = (mediaId: string, patch: Partial<OptimizeResult>): OptimizeResult =>
  imageResult(
    mediaId,
    [
      ['low', 'webp', 1000],
      ['thumbnail', 'webp', 1000],
    ],
    patch,
  );

const failure = (mediaId: string, code: string): OptimizeResult =>
  result(mediaId, { success: false, processed: [], error: { code, detail: `${code} detail` } });

describe('processing failures the owner sees', () => {
  test('a failed media shows its code and detail, and its url is the original through the edge, for its owner only', async () => {
    const mediaId = await processingMedia('fail-owner');
    assert.equal(
      await applyOptimizeResult(api.ctx.db, randomUUID(), failure(mediaId, 'image_undecodable')),
      'applied',
    );
    const seen = await view('fail-owner', mediaId);
    assert.equal(seen.status, 'failed');
    assert.deepEqual(seen.failure, { code: 'image_undecodable', detail: 'image_undecodable detail' });
    const [row] = await api.ctx.db.select().from(media).where(eq(media.id, mediaId));
    assert.ok(
      seen.url?.startsWith(`${api.config.edgePublicUrl}/m/${row?.objectKey}?token=`),
      seen.url ?? 'null',
    );
    // Even a public media's original stays the owner's: nobody else is shown a failed media.
    await api.call('fail-owner', {
      method: 'PATCH',
      url: `/v1/media/${mediaId}`,
      payload: { visibility: 'public' },
    });
    const stranger = await api.call('someone-else', { method: 'GET', url: `/v1/media/${mediaId}` });
    assert.equal(stranger.statusCode, 404);
  });

  test('outputs that failed on their own are reported on the ready media, and in its trace', async () => {
    const mediaId = await processingMedia('partial-owner');
    const failedOutputs = [
      { quality: 'high', code: 'rendition_failed', detail: 'encoder ran out of time' },
      { quality: 'hls', code: 'output_failed', detail: 'segmenter exited with 1' },
    ];
    await applyOptimizeResult(api.ctx.db, randomUUID(), result(mediaId, { failedOutputs }));
    const seen = await view('partial-owner', mediaId);
    assert.equal(seen.status, 'ready');
    assert.equal(seen.failure?.code, 'outputs_failed');
    assert.match(seen.failure?.detail ?? '', /high: rendition_failed \(encoder ran out of time\)/);
    assert.match(seen.failure?.detail ?? '', /hls: output_failed/);
    assert.ok(seen.url, 'the outputs that were built are shown');
    const [event] = await api.ctx.db
      .select()
      .from(mediaEvent)
      .where(eq(mediaEvent.mediaId, mediaId))
      .then((events) => events.filter((e) => e.toStatus === 'ready'));
    assert.deepEqual((event?.detail as { failedOutputs?: unknown } | null)?.failedOutputs, failedOutputs);

    // A later complete rebuild clears the report.
    await applyOptimizeResult(api.ctx.db, randomUUID(), result(mediaId, {}));
    assert.equal((await view('partial-owner', mediaId)).failure, null);
  });
});

describe('results are compare-and-set', () => {
  test('a failure arriving after the media is ready changes nothing', async () => {
    const mediaId = await processingMedia('cas-owner');
    await applyOptimizeResult(api.ctx.db, randomUUID(), result(mediaId, {}));
    for (const code of ['processing_failed', 'processing_dead_lettered']) {
      assert.equal(await applyOptimizeResult(api.ctx.db, randomUUID(), failure(mediaId, code)), 'stale');
    }
    const seen = await view('cas-owner', mediaId);
    assert.equal(seen.status, 'ready');
    assert.equal(seen.failure, null);
  });

  test('the same result twice is applied once', async () => {
    const mediaId = await processingMedia('cas-owner');
    const eventId = randomUUID();
    const once = failure(mediaId, 'media_timeout');
    assert.equal(await applyOptimizeResult(api.ctx.db, eventId, once), 'applied');
    assert.equal(await applyOptimizeResult(api.ctx.db, eventId, once), 'duplicate');
  });

  test('a result for a deleted media only queues its fresh objects for deletion', async () => {
    const mediaId = await processingMedia('cas-owner');
    const deleted = await api.call('cas-owner', { method: 'DELETE', url: `/v1/media/${mediaId}` });
    assert.ok(deleted.statusCode < 300, deleted.body);
    const late = result(mediaId, {});
    assert.equal(await applyOptimizeResult(api.ctx.db, randomUUID(), late), 'stale');
    const [row] = await api.ctx.db.select().from(media).where(eq(media.id, mediaId));
    assert.equal(row?.status, 'deleted');
    const queued = await api.ctx.db.select().from(storageGarbage);
    for (const output of late.processed)
      assert.ok(
        queued.some((g) => g.objectKey === output.key),
        output.key,
      );
  });

  test('a partial result after the final one is ignored', async () => {
    const mediaId = await processingMedia('cas-owner');
    const final = result(mediaId, {});
    await applyOptimizeResult(api.ctx.db, randomUUID(), final);
    const partial = result(mediaId, { stage: 'partial' });
    assert.equal(await applyPartialResult(api.ctx.db, partial), 'stale');
    const [row] = await api.ctx.db.select().from(media).where(eq(media.id, mediaId));
    assert.ok(row?.displayKey?.includes(final.requestId), 'the final result still shows');
  });
});
