import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq, sql } from 'drizzle-orm';
import { Registry } from 'prom-client';
import type { MediaView } from '../../contracts/media.ts';
import { media } from '../../db/schema.ts';
import type { Bus, Subscription } from '../../platform/bus/bus.ts';
import type { DeadLetterAdmin } from '../../platform/bus/dead-letters.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { startWorker } from '../../worker/worker.ts';
import { type Relay, startRelay } from '../outbox/relay.ts';
import { subscribeResults } from '../results/results-consumer.ts';
import { registerStuckMediaGauge } from './stuck-media.ts';

/**
 * The whole path on the embedded bus, in one process: a request the worker fails on every attempt is parked,
 * and its media says so (`failed`, `processing_dead_lettered`) instead of staying `processing` for ever; a
 * redrive puts it back to work. Media that stop moving for other reasons are listed as stuck.
 */
let api: InProcessApi;
let bus: Bus & DeadLetterAdmin;
let photo: Buffer;
const registry = new Registry();
const running: Subscription[] = [];
let relay: Relay | undefined;

before(async () => {
  api = await startInProcessApi({ env: { BUS_RETRY_BASE_MS: '100' } });
  bus = api.ctx.deadLetters as Bus & DeadLetterAdmin;
  photo = await makeJpegWithGps(320, 240, { lat: 5, lon: 6 });
  running.push(await subscribeResults(api.ctx.db, api.ctx.storage, bus, api.ctx.logger, registry));
  running.push(
    await startWorker({ config: api.config, storage: api.ctx.storage, bus, logger: api.ctx.logger }),
  );
  registerStuckMediaGauge(registry, api.ctx.db, api.config.stuckProcessingAfterSeconds);
});
after(async () => {
  await relay?.stop();
  for (const s of running) await s.stop();
  await api?.stop();
});

const ops = (method: 'GET' | 'POST', url: string, payload?: object) =>
  api.app.inject({
    method,
    url,
    payload,
    headers: { authorization: `Bearer ${api.token('operator', { admin: true })}` },
  });

async function completed(owner: string): Promise<{ mediaId: string; objectKey: string }> {
  const session = await api.uploadCompleted(owner, photo, 'image/jpeg', 'p.jpg');
  const [row] = await api.ctx.db.select().from(media).where(eq(media.id, session.mediaId));
  return { mediaId: session.mediaId, objectKey: row?.objectKey ?? '' };
}

async function statusBecomes(owner: string, mediaId: string, status: string): Promise<MediaView> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const seen = (await api.call(owner, { method: 'GET', url: `/v1/media/${mediaId}` })).json() as MediaView;
    if (seen.status === status) return seen;
    assert.ok(Date.now() < deadline, `media stayed ${seen.status}, never ${status}`);
    await sleep(200);
  }
}

describe('a request dead-lettered on every attempt', () => {
  let mediaId: string;

  test('fails its media visibly with processing_dead_lettered and counts it', async () => {
    const upload = await completed('dlq-owner');
    mediaId = upload.mediaId;
    // The worker finds no original on any attempt: an outage of ours, retried until the bus gives up.
    await api.ctx.storage.delete([upload.objectKey]);
    relay = startRelay({
      connectionString: api.databaseUrl,
      bus,
      logger: api.ctx.logger,
      pollIntervalMs: 100,
    });

    const seen = await statusBecomes('dlq-owner', mediaId, 'failed');
    assert.equal(seen.failure?.code, 'processing_dead_lettered');
    assert.match(seen.failure?.detail ?? '', /every attempt failed/);
    assert.match(await registry.metrics(), /^mediagate_media_dead_lettered_total 1$/m);

    const letters = await ops('GET', '/v1/ops/dlq?topic=optimize.request');
    assert.equal(letters.statusCode, 200, letters.body);
    const letter = (letters.json() as { items: { id: string; key: string }[] }).items.find(
      (l) => l.key === mediaId,
    );
    assert.ok(letter, 'the request is parked for an operator');

    // The operator restores the original and redrives: the media is back at work at once, then ready.
    await api.ctx.storage.put(upload.objectKey, photo, 'image/jpeg', photo.length);
    const redrive = await ops('POST', '/v1/ops/dlq/redrive', { topic: 'optimize.request', ids: [letter.id] });
    assert.equal(redrive.statusCode, 200, redrive.body);
    assert.deepEqual(redrive.json(), { redriven: 1, requeuedMedia: 1 });
    const requeued = (await api.call('dlq-owner', { method: 'GET', url: `/v1/media/${mediaId}` })).json();
    assert.ok(['processing', 'ready'].includes(requeued.status), requeued.status);
    const ready = await statusBecomes('dlq-owner', mediaId, 'ready');
    assert.equal(ready.failure, null);
  });

  test('a redrive leaves media that failed for another reason alone', async () => {
    const other = await completed('dlq-owner');
    await statusBecomes('dlq-owner', other.mediaId, 'ready');
    await api.ctx.db
      .update(media)
      .set({ status: 'failed', failureCode: 'image_undecodable' })
      .where(eq(media.id, other.mediaId));
    const redrive = await ops('POST', '/v1/ops/dlq/redrive', { topic: 'optimize.request' });
    assert.equal(redrive.json().requeuedMedia, 0);
    const [row] = await api.ctx.db.select().from(media).where(eq(media.id, other.mediaId));
    assert.equal(row?.status, 'failed');
  });
});

describe('media stuck in processing', () => {
  test('are listed for operators, oldest first, and counted in a gauge', async () => {
    await relay?.stop();
    relay = undefined;
    // Nobody relays these requests: the media stay `processing` with nothing happening.
    const stuck = await completed('stuck-owner');
    const fresh = await completed('stuck-owner');
    await api.ctx.db
      .update(media)
      .set({ updatedAt: sql`now() - interval '2 hours'` })
      .where(eq(media.id, stuck.mediaId));

    const listed = await ops('GET', '/v1/ops/media/stuck');
    assert.equal(listed.statusCode, 200, listed.body);
    const body = listed.json() as {
      thresholdSeconds: number;
      total: number;
      items: { id: string; stuckForSeconds: number }[];
    };
    assert.equal(body.thresholdSeconds, 3600);
    assert.deepEqual(
      body.items.map((i) => i.id),
      [stuck.mediaId],
    );
    assert.equal(body.total, 1);
    assert.ok((body.items[0]?.stuckForSeconds ?? 0) >= 7200);
    assert.ok(!body.items.some((i) => i.id === fresh.mediaId));
    assert.match(await registry.metrics(), /^mediagate_media_stuck_processing 1$/m);

    const asOwner = await api.call('stuck-owner', { method: 'GET', url: '/v1/ops/media/stuck' });
    assert.equal(asOwner.statusCode, 403);
    const badLimit = await ops('GET', '/v1/ops/media/stuck?limit=0');
    assert.equal(badLimit.statusCode, 400);
  });
});
