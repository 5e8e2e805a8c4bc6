import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { Registry } from 'prom-client';
import { media, outbox } from '../../db/schema.ts';
import type { Bus, Subscription } from '../../platform/bus/bus.ts';
import type { DeadLetterAdmin } from '../../platform/bus/dead-letters.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { startWorker } from '../../worker/worker.ts';
import { type Relay, startRelay } from '../outbox/relay.ts';
import { subscribeResults } from '../results/results-consumer.ts';

/**
 * Replays carry the media as it is NOW: a deduplicated media's own original is gone (it was linked to its
 * twin's objects), so a copy of its first request would fail on every attempt and be dead-lettered. Media
 * that are deleted are skipped and reported, never sent to fail. The whole path on the embedded bus.
 */
let api: InProcessApi;
let bus: Bus & DeadLetterAdmin;
let relay: Relay;
const running: Subscription[] = [];
const owner = 'replay-owner';

before(async () => {
  api = await startInProcessApi({ env: { BUS_RETRY_BASE_MS: '100' } });
  bus = api.ctx.deadLetters as Bus & DeadLetterAdmin;
  running.push(await subscribeResults(api.ctx.db, api.ctx.storage, bus, api.ctx.logger, new Registry()));
  running.push(
    await startWorker({ config: api.config, storage: api.ctx.storage, bus, logger: api.ctx.logger }),
  );
  relay = startRelay({ connectionString: api.databaseUrl, bus, logger: api.ctx.logger, pollIntervalMs: 100 });
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

async function mediaRow(id: string) {
  const [row] = await api.ctx.db.select().from(media).where(eq(media.id, id));
  assert.ok(row, `media ${id}`);
  return row;
}

/** Waits until the worker run of `requestId` has been applied, and returns the status it left. */
async function settledBy(mediaId: string, requestId: string): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const trace = (await ops('GET', `/v1/ops/media/${mediaId}/trace`)).json() as {
      processing: { requestId: string; outcome: string }[];
    };
    const run = trace.processing.find((p) => p.requestId === requestId);
    if (run) return run.outcome;
    assert.ok(Date.now() < deadline, `request ${requestId} of ${mediaId} never settled`);
    await sleep(200);
  }
}

async function uploadToReady(photo: Buffer): Promise<string> {
  const session = await api.uploadCompleted(owner, photo, 'image/jpeg', 'p.jpg');
  const [request] = await api.ctx.db.select().from(outbox).where(eq(outbox.aggregateId, session.mediaId));
  assert.equal(await settledBy(session.mediaId, request?.id ?? ''), 'ready');
  return session.mediaId;
}

interface OutboxList {
  pending: number;
  oldestPendingAgeSeconds: number | null;
  items: { id: string; publishedAt: string | null }[];
}

interface ReplayAnswer {
  replayed: { id: string; replayOf: string }[];
  skipped: { mediaId: string; reason: string }[];
}

describe('replaying a deduplicated media', () => {
  let twin: string;
  let copy: string;
  let deleted: string;
  let startedAt: string;

  before(async () => {
    startedAt = new Date(Date.now() - 1000).toISOString();
    const photo = await makeJpegWithGps(320, 240, { lat: 1, lon: 2 });
    twin = await uploadToReady(photo);
    copy = await uploadToReady(photo);
    deleted = await uploadToReady(await makeJpegWithGps(200, 150, { lat: 3, lon: 4 }));
    assert.equal((await api.call(owner, { method: 'DELETE', url: `/v1/media/${deleted}` })).statusCode, 204);
    // The copy now shows its twin's objects; its own original is deleted by the sweeper.
    assert.equal((await mediaRow(copy)).objectKey, (await mediaRow(twin)).objectKey);
    const sweep = await ops('POST', '/v1/ops/storage/sweep', { graceSeconds: 0 });
    assert.equal(sweep.statusCode, 200, sweep.body);
  });

  test('by media: the request names the twin object it shows now, and the media ends ready', async () => {
    const reply = await ops('POST', '/v1/ops/outbox/replay', { mediaId: copy });
    assert.equal(reply.statusCode, 200, reply.body);
    const answer = reply.json() as ReplayAnswer;
    assert.equal(answer.replayed.length, 1);
    assert.deepEqual(answer.skipped, []);
    const [event] = await api.ctx.db
      .select()
      .from(outbox)
      .where(eq(outbox.id, answer.replayed[0]?.id ?? ''));
    assert.equal(
      (event?.payload as { objectKey?: string } | undefined)?.objectKey,
      (await mediaRow(twin)).objectKey,
    );
    assert.equal(await settledBy(copy, answer.replayed[0]?.id ?? ''), 'ready');
    assert.equal((await mediaRow(copy)).status, 'ready');
  });

  test('by range: live media are replayed to ready, the deleted one is skipped and reported', async () => {
    const reply = await ops('POST', '/v1/ops/outbox/replay', {
      from: startedAt,
      to: new Date().toISOString(),
    });
    assert.equal(reply.statusCode, 200, reply.body);
    const answer = reply.json() as ReplayAnswer;
    assert.deepEqual(answer.skipped, [{ mediaId: deleted, reason: 'media_deleted' }]);
    assert.equal(answer.replayed.length, 2);
    for (const { id } of answer.replayed) {
      const [event] = await api.ctx.db.select().from(outbox).where(eq(outbox.id, id));
      assert.equal(await settledBy(event?.aggregateId ?? '', id), 'ready');
    }
    const letters = (await ops('GET', '/v1/ops/dlq?topic=optimize.request')).json() as { items: unknown[] };
    assert.deepEqual(letters.items, [], 'nothing was dead-lettered');
  });

  test('a replay waits in the pending list until the relay has sent it, then shows as published', async () => {
    // Whatever the earlier settles announced goes out first, so that the replay is all that waits.
    const deadline = Date.now() + 30_000;
    while (((await ops('GET', '/v1/ops/outbox')).json() as OutboxList).pending > 0) {
      assert.ok(Date.now() < deadline, 'the outbox drains');
      await sleep(100);
    }
    await relay.stop();
    const reply = await ops('POST', '/v1/ops/outbox/replay', { mediaId: twin });
    assert.equal(reply.statusCode, 200, reply.body);
    const [replay] = (reply.json() as ReplayAnswer).replayed;
    const pending = (await ops('GET', `/v1/ops/outbox?mediaId=${twin}`)).json() as OutboxList;
    assert.deepEqual(
      pending.items.map((i) => [i.id, i.publishedAt]),
      [[replay?.id, null]],
    );
    assert.equal(pending.pending, 1);
    assert.ok((pending.oldestPendingAgeSeconds ?? -1) >= 0, 'the oldest pending event has an age');

    relay = startRelay({
      connectionString: api.databaseUrl,
      bus,
      logger: api.ctx.logger,
      pollIntervalMs: 100,
    });
    assert.equal(await settledBy(twin, replay?.id ?? ''), 'ready');
    const after = (await ops('GET', `/v1/ops/outbox?mediaId=${twin}`)).json() as OutboxList;
    assert.deepEqual(after.items, []);
    assert.equal(after.oldestPendingAgeSeconds, null);
    const published = (
      await ops('GET', `/v1/ops/outbox?state=published&mediaId=${twin}`)
    ).json() as OutboxList;
    assert.ok(
      published.items.find((i) => i.id === replay?.id)?.publishedAt,
      'the replay is stamped published',
    );
  });

  test('a deleted media replayed by id is skipped, and nothing is queued', async () => {
    const reply = await ops('POST', '/v1/ops/outbox/replay', { mediaId: deleted });
    assert.equal(reply.statusCode, 200, reply.body);
    assert.deepEqual(reply.json(), {
      replayed: [],
      skipped: [{ mediaId: deleted, reason: 'media_deleted' }],
    });
  });
});
