import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { and, eq } from 'drizzle-orm';
import type { ChunkOutcome, ChunkRendition, OptimizeResult } from '../../../contracts/events.ts';
import { topics } from '../../../contracts/events.ts';
import type { MediaView } from '../../../contracts/media.ts';
import { hlsObjectKey, rungStopMarkKey } from '../../../contracts/object-keys.ts';
import { media, outbox, videoChunk, videoRung } from '../../../db/schema.ts';
import { type InProcessApi, startInProcessApi } from '../../../test/in-process.ts';
import { makeJpegWithGps } from '../../../worker/image/test-images.ts';
import { applyChunkedStage } from './apply-chunked-stage.ts';

/**
 * A chunked video's results as its workers publish them (plan, chunk outcomes, assemblies), applied to a
 * processing media on the real schema and storage: what its owner sees at each step, and what a repeated
 * or failed chunk does. The encoding itself is end to end (test/video-chunks.test.ts).
 */
let api: InProcessApi;
let photo: Buffer;
before(async () => {
  api = await startInProcessApi();
  photo = await makeJpegWithGps(64, 48, { lat: 1, lon: 2 });
});
after(() => api?.stop());

const owner = 'chunk-owner';
const rendition = (quality: string, height: number): ChunkRendition => ({
  quality,
  mode: 'transcode',
  width: (height * 16) / 9,
  height,
  outputArgs: ['-c:v', 'libx264'],
});
const rungs = [rendition('low', 360), rendition('medium', 720)];

/** A media `processing` as the gate leaves it; its kind does not matter to the results consumer. */
async function processingMedia(): Promise<{ mediaId: string; requestId: string }> {
  const session = await api.uploadCompleted(owner, photo, 'image/jpeg', 'p.jpg');
  return { mediaId: session.mediaId, requestId: randomUUID() };
}

function result(ids: { mediaId: string; requestId: string }, patch: Partial<OptimizeResult>): OptimizeResult {
  return { ...ids, success: true, processed: [], sha256: null, metadata: { durationSeconds: 4 }, ...patch };
}

const plan = (ids: { mediaId: string; requestId: string }) =>
  result(ids, {
    stage: 'chunk-plan',
    chunkPlan: {
      chunkSeconds: [2, 2],
      rungs: rungs.map((r) => ({ rendition: r, bandwidth: r.height * 3000 })),
      withAudio: true,
      stillCount: 1,
    },
  });

const chunk = (
  ids: { mediaId: string; requestId: string },
  outcome: Partial<ChunkOutcome> & { index: number },
) => result(ids, { stage: 'chunk', chunk: { done: [], failed: [], encoded: true, ...outcome } });

const segment = (ids: { mediaId: string; requestId: string }, quality: string, index: number) => ({
  quality,
  key: hlsObjectKey(ids.mediaId, ids.requestId, `${quality}/${index}.ts`),
  size: 1000,
});

const view = async (mediaId: string) => {
  const reply = await api.call(owner, { method: 'GET', url: `/v1/media/${mediaId}` });
  assert.equal(reply.statusCode, 200, reply.body);
  return reply.json() as MediaView;
};

const stored = async (key: string) => {
  const head = await api.ctx.storage.head(key);
  return head ? (await api.ctx.storage.readRange(key, 0, head.size - 1)).toString('utf8') : undefined;
};

const apply = (r: OptimizeResult) => applyChunkedStage(api.ctx.db, api.ctx.storage, r);

const assemblyJobs = (mediaId: string) =>
  api.ctx.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.aggregateId, mediaId), eq(outbox.topic, topics.videoAssemble)));

describe('a video encoded in chunk jobs', () => {
  test('its first chunk makes it playable while processing (EVENT playlist, the HLS URL in its view); the rung turns VOD and is assembled once, however often a chunk is reported', async () => {
    const ids = await processingMedia();
    assert.equal((await apply(plan(ids))).outcome, 'applied');
    const recorded = await api.ctx.db.select().from(videoRung).where(eq(videoRung.mediaId, ids.mediaId));
    assert.deepEqual(recorded.map((r) => [r.quality, r.state]).sort(), [
      ['low', 'chunks'],
      ['medium', 'chunks'],
    ]);
    assert.deepEqual((await view(ids.mediaId)).progress, { low: 0, medium: 0 });

    await apply(chunk(ids, { index: 0, done: [segment(ids, 'low', 0)] }));
    const playing = await view(ids.mediaId);
    assert.equal(playing.status, 'processing');
    const hls = playing.variants.find((v) => v.quality === 'hls');
    assert.ok(hls?.url.includes('/hls/master.m3u8'), JSON.stringify(playing.variants));
    const lowKey = hlsObjectKey(ids.mediaId, ids.requestId, 'low/index.m3u8');
    const growing = await stored(lowKey);
    assert.match(growing ?? '', /#EXT-X-PLAYLIST-TYPE:EVENT/);
    assert.doesNotMatch(growing ?? '', /#EXT-X-ENDLIST/);
    assert.deepEqual(growing?.match(/^\d+\.ts$/gm), ['0.ts']);
    const master = await stored(hlsObjectKey(ids.mediaId, ids.requestId, 'master.m3u8'));
    assert.deepEqual(master?.match(/^.+\/index\.m3u8$/gm), ['low/index.m3u8']);

    // The second chunk arrives twice (a redelivered job), then the first again: one assembly job.
    for (const index of [1, 1, 0]) await apply(chunk(ids, { index, done: [segment(ids, 'low', index)] }));
    const finished = await stored(lowKey);
    assert.match(finished ?? '', /#EXT-X-PLAYLIST-TYPE:VOD/);
    assert.match(finished ?? '', /#EXT-X-ENDLIST/);
    assert.deepEqual(finished?.match(/^\d+\.ts$/gm), ['0.ts', '1.ts']);
    const jobs = await assemblyJobs(ids.mediaId);
    assert.equal(jobs.length, 1);
    assert.deepEqual((jobs[0]?.payload as { chunkKeys?: string[] } | undefined)?.chunkKeys, [
      segment(ids, 'low', 0).key,
      segment(ids, 'low', 1).key,
    ]);
    const chunks = await api.ctx.db.select().from(videoChunk).where(eq(videoChunk.mediaId, ids.mediaId));
    assert.equal(chunks.length, 2);
    assert.equal((await view(ids.mediaId)).status, 'processing', 'not ready before the rungs are assembled');
  });

  test('a chunk that keeps failing fails its rendition, visibly, and the media is ready with the others', async () => {
    const ids = await processingMedia();
    await apply(plan(ids));
    for (const index of [0, 1]) await apply(chunk(ids, { index, done: [segment(ids, 'low', index)] }));
    await apply(chunk(ids, { index: 0, done: [segment(ids, 'medium', 0)] }));
    await apply(
      chunk(ids, { index: 1, failed: [{ quality: 'medium', detail: 'encoder crashed' }], encoded: false }),
    );
    const master = await stored(hlsObjectKey(ids.mediaId, ids.requestId, 'master.m3u8'));
    assert.deepEqual(
      master?.match(/^.+\/index\.m3u8$/gm),
      ['low/index.m3u8'],
      'a failed rung is not offered',
    );
    assert.equal((await assemblyJobs(ids.mediaId)).length, 1, 'only the complete rung is assembled');
    assert.equal((await view(ids.mediaId)).status, 'processing');
    assert.ok(
      await stored(rungStopMarkKey(ids.mediaId, ids.requestId, 'medium')),
      'the rung’s other chunk jobs are told to leave it out',
    );

    const mp4 = {
      quality: 'low',
      format: 'mp4',
      key: `derived/${ids.mediaId}/${ids.requestId}/low.mp4`,
      url: '',
      width: 640,
      height: 360,
      size: 5000,
    };
    const assembled = result(ids, { stage: 'chunked-output', processed: [mp4], progress: { low: 1 } });
    assert.equal((await apply(assembled)).settled?.outcome, 'pending', 'the poster is not reported yet');
    const poster = {
      ...mp4,
      quality: 'poster',
      format: 'webp',
      key: mp4.key.replace('low.mp4', 'poster.webp'),
    };
    // The coordinator planned before its download: the hash comes with the stills.
    const sha256 = 'a'.repeat(64);
    const settled = await apply(result(ids, { stage: 'chunked-output', processed: [poster], sha256 }));
    assert.equal(settled.settled?.outcome, 'applied');
    assert.equal((await apply(assembled)).settled?.outcome, 'duplicate', 'settled once');
    const ready = await view(ids.mediaId);
    assert.equal(ready.status, 'ready');
    assert.deepEqual(ready.variants.map((v) => v.quality).sort(), ['hls', 'low', 'poster']);
    assert.equal(ready.failure?.code, 'outputs_failed');
    assert.match(ready.failure?.detail ?? '', /medium: rendition_failed \(encoder crashed\)/);
    const [row] = await api.ctx.db.select().from(media).where(eq(media.id, ids.mediaId));
    assert.ok(row?.displayKey?.endsWith('/low.mp4'));
    assert.equal(row?.sha256, sha256);
  });

  test('no rung built: the media fails with the reason', async () => {
    const ids = await processingMedia();
    await apply(plan(ids));
    await apply(
      chunk(ids, { index: 0, failed: [{ quality: 'low', detail: 'source unreadable' }], encoded: false }),
    );
    await apply(
      chunk(ids, { index: 0, failed: [{ quality: 'medium', detail: 'source unreadable' }], encoded: false }),
    );
    const noFrame = [{ quality: 'poster', code: 'output_failed', detail: 'no frame' }];
    await apply(result(ids, { stage: 'chunked-output', failedOutputs: noFrame }));
    const failed = await view(ids.mediaId);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failure?.code, 'rendition_failed');
    assert.match(failed.failure?.detail ?? '', /low: source unreadable/);
  });

  test('results for a media no longer processing change nothing', async () => {
    const ids = await processingMedia();
    await api.call(owner, { method: 'DELETE', url: `/v1/media/${ids.mediaId}` });
    assert.equal((await apply(plan(ids))).outcome, 'stale');
    assert.equal((await apply(chunk(ids, { index: 0, done: [segment(ids, 'low', 0)] }))).outcome, 'stale');
    assert.equal(await stored(hlsObjectKey(ids.mediaId, ids.requestId, 'master.m3u8')), undefined);
  });

  test('a reprocess of a ready media (an operator replay) settles with its new outputs', async () => {
    const first = await processingMedia();
    const build = async (ids: { mediaId: string; requestId: string }) => {
      await apply(plan(ids));
      for (const quality of ['low', 'medium'])
        for (const index of [0, 1]) await apply(chunk(ids, { index, done: [segment(ids, quality, index)] }));
      for (const quality of ['low', 'medium', 'poster']) {
        const format = quality === 'poster' ? 'webp' : 'mp4';
        const key = `derived/${ids.mediaId}/${ids.requestId}/${quality}.${format}`;
        const output = { quality, format, key, url: '', width: 640, height: 360, size: 5000 };
        await apply(result(ids, { stage: 'chunked-output', processed: [output] }));
      }
      return view(ids.mediaId);
    };
    assert.equal((await build(first)).status, 'ready');
    const again = { mediaId: first.mediaId, requestId: randomUUID() };
    const rebuilt = await build(again);
    assert.equal(rebuilt.status, 'ready');
    assert.deepEqual(rebuilt.variants.map((v) => v.quality).sort(), ['hls', 'low', 'medium', 'poster']);
    const [row] = await api.ctx.db.select().from(media).where(eq(media.id, first.mediaId));
    assert.ok(row?.displayKey?.includes(again.requestId), 'the new build is shown');
  });
});
