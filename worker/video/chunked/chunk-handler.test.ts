import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type OptimizeResult, topics, type VideoChunkJob } from '../../../contracts/events.ts';
import { rungStopMarkKey, stopMarkKey } from '../../../contracts/object-keys.ts';
import type { DeliveredMessage } from '../../../platform/bus/bus.ts';
import { maxDeliveryAttempts } from '../../../platform/bus/bus.ts';
import { type InProcessApi, startInProcessApi } from '../../../test/in-process.ts';
import { chunkHandler } from './chunk-handler.ts';
import { chunkSegmentKey } from './segment-key.ts';

/**
 * The chunk job's checkpoint and its last attempt, on the in-process S3 server and the embedded bus. The
 * worker's ffmpeg is a path that does not exist: a job that encoded anything would fail.
 */
let api: InProcessApi;
let tempDir: string;
const results: OptimizeResult[] = [];

before(async () => {
  api = await startInProcessApi();
  tempDir = await mkdtemp(join(tmpdir(), 'mediagate-chunk-handler-'));
  await api.bus.subscribe(topics.optimizeResult, 'chunk-handler-test', async (message) => {
    results.push(message.payload as OptimizeResult);
  });
});
after(async () => {
  await api?.stop();
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
});

const handler = () =>
  chunkHandler({
    config: { ...api.config, ffmpegPath: '/nonexistent/ffmpeg', worker: { concurrency: 1, tempDir } },
    storage: api.ctx.storage,
    bus: api.bus,
    logger: pino({ level: 'silent' }),
  });

function job(): VideoChunkJob {
  const rendition = (quality: string, height: number) => ({
    quality,
    mode: 'transcode' as const,
    width: Math.round((height * 16) / 9 / 2) * 2,
    height,
    outputArgs: ['-c:v', 'libx264'],
  });
  return {
    mediaId: randomUUID(),
    requestId: randomUUID(),
    objectKey: `raw/${randomUUID()}/${randomUUID()}`,
    span: { index: 3, startSeconds: 6, endSeconds: 8 },
    chunkCount: 5,
    renditions: [rendition('480p', 480), rendition('medium', 720)],
    withAudio: true,
  };
}

const delivered = (payload: VideoChunkJob, attempt: number): DeliveredMessage => ({
  id: randomUUID(),
  key: `${payload.mediaId}:${payload.span.index}`,
  type: 'media.video.chunk',
  payload,
  headers: {},
  topic: topics.videoChunk,
  attempt,
});

async function resultFor(mediaId: string): Promise<OptimizeResult> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const found = results.find((r) => r.mediaId === mediaId);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no result for ${mediaId}`);
}

const store = (key: string, bytes: number) =>
  api.ctx.storage.put(key, Buffer.alloc(bytes, 1), 'video/mp2t', bytes);

describe('a chunk job', () => {
  test('whose segments are all stored (a redelivered or duplicated job) reports them done without encoding', async () => {
    const payload = job();
    await store(chunkSegmentKey(payload, '480p', 3), 1200);
    await store(chunkSegmentKey(payload, 'medium', 3), 3400);
    await handler()(delivered(payload, 2));
    const reported = await resultFor(payload.mediaId);
    assert.equal(reported.stage, 'chunk');
    assert.deepEqual(reported.chunk, {
      index: 3,
      done: [
        { quality: '480p', key: chunkSegmentKey(payload, '480p', 3), size: 1200 },
        { quality: 'medium', key: chunkSegmentKey(payload, 'medium', 3), size: 3400 },
      ],
      failed: [],
      encoded: false,
    });
  });

  test('with a segment missing encodes again; a failure is retried by the bus, and the last attempt reports its rungs failed', async () => {
    const payload = job();
    await store(payload.objectKey, 5000);
    await store(chunkSegmentKey(payload, '480p', 3), 1200);
    await assert.rejects(handler()(delivered(payload, 1)));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      results.some((r) => r.mediaId === payload.mediaId),
      false,
      'an attempt the bus retries reports nothing',
    );
    await assert.rejects(handler()(delivered(payload, maxDeliveryAttempts)));
    const reported = await resultFor(payload.mediaId);
    assert.deepEqual(
      reported.chunk?.failed.map((f) => f.quality),
      ['480p', 'medium'],
    );
    assert.deepEqual(reported.chunk?.done, []);
    assert.match(reported.chunk?.failed[0]?.detail ?? '', /every attempt failed/);
  });

  test('leaves out a rung the API failed: the others go on, the failed one is neither encoded nor reported', async () => {
    const payload = job();
    await store(rungStopMarkKey(payload.mediaId, payload.requestId, '480p'), 7);
    await store(chunkSegmentKey(payload, 'medium', 3), 3400);
    // An encode of the missing 480p segment would throw (no ffmpeg).
    await handler()(delivered(payload, 1));
    const reported = await resultFor(payload.mediaId);
    assert.deepEqual(
      reported.chunk?.done.map((d) => d.quality),
      ['medium'],
    );
  });

  test('of a video deleted or taken down (its stop mark stored) ends at once: no encode, no report, no retry', async () => {
    const payload = job();
    await api.ctx.storage.put(stopMarkKey(payload.mediaId), Buffer.from('stopped'), 'text/plain', 7);
    // Its last attempt even: an encode (the missing ffmpeg) would throw and report its rungs failed.
    await handler()(delivered(payload, maxDeliveryAttempts));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      results.some((r) => r.mediaId === payload.mediaId),
      false,
    );
  });

  test('whose original is gone (a replay its first run deduplicated away) reports its rungs failed at once, not retried into the DLQ', async () => {
    const payload = job();
    await handler()(delivered(payload, 1));
    const reported = await resultFor(payload.mediaId);
    assert.deepEqual(
      reported.chunk?.failed.map((f) => f.quality),
      ['480p', 'medium'],
    );
    assert.match(reported.chunk?.failed[0]?.detail ?? '', /no longer in storage/);
  });
});
