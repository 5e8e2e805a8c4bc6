import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { MediaView } from '../contracts/media.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { completeUpload, mediagate, settled, storeUpload, traceMedia } from './media-flow.ts';

// Operators replay events through the ops routes and the CLI: a replay is a new event that every consumer
// processes again, so a ready photo gets a fresh ladder and its old one is queued for deletion.
let platform: Platform;

before(async () => {
  platform = await startPlatform();
});
after(() => platform?.stop());

interface OutboxItem {
  id: string;
  aggregateId: string;
  topic: string;
  replayOf: string | null;
  publishedAt: string | null;
}

const alice = () => apiClient(platform, platform.token('alice'));
const ops = () => apiClient(platform, platform.token('ops', { admin: true }));

async function variantKeys(mediaId: string): Promise<string[]> {
  return (await traceMedia(platform, mediaId)).variants.map((v) => v.objectKey);
}

/** Waits for the media's ladder to be the one `requestId` built, checking that it never leaves `ready`. */
async function rebuiltBy(mediaId: string, requestId: string): Promise<string[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const media = await alice().get<MediaView>(`/v1/media/${mediaId}`);
    assert.equal(media.body.status, 'ready', 'a replay keeps the media ready');
    const keys = await variantKeys(mediaId);
    if (keys.length > 0 && keys.every((k) => k.includes(`/${requestId}/`))) return keys;
    assert.ok(Date.now() < deadline, `request ${requestId} was not applied: ${keys.join()}`);
    await sleep(200);
  }
}

async function queuedForDeletion(keys: string[]): Promise<string[]> {
  const client = new pg.Client({ connectionString: platform.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ object_key: string }>(
      'select object_key from storage_garbage where object_key = any($1)',
      [keys],
    );
    return rows.map((r) => r.object_key).sort();
  } finally {
    await client.end();
  }
}

describe('replaying outbox events', () => {
  let mediaId: string;
  let original: OutboxItem;
  let firstKeys: string[];
  const startedAt = new Date().toISOString();

  before(async () => {
    const upload = await storeUpload(alice(), await makeJpegWithGps(1200, 900, { lat: 5, lon: 6 }));
    mediaId = upload.session.mediaId;
    await completeUpload(alice(), upload);
    const media = await settled(platform, alice(), mediaId);
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    firstKeys = (await variantKeys(mediaId)).sort();
    const list = await ops().get<{ items: OutboxItem[] }>(`/v1/ops/outbox?state=all&mediaId=${mediaId}`);
    const requests = list.body.items.filter((i) => i.topic === 'optimize.request');
    assert.equal(requests.length, 1);
    assert.ok(
      list.body.items.some((i) => i.topic === 'lifecycle'),
      'beside it, its media.ready for the apps',
    );
    original = requests[0] as OutboxItem;
  });

  test('a replayed optimize request rebuilds a ready photo under new keys; the old ladder is queued for deletion', async () => {
    const replay = await ops().post<{ replayed: { id: string; replayOf: string }[] }>(
      '/v1/ops/outbox/replay',
      { mediaId },
    );
    assert.equal(replay.status, 200, JSON.stringify(replay.body));
    assert.equal(replay.body.replayed.length, 1);
    const [event] = replay.body.replayed;
    assert.ok(event && event.replayOf === original.id && event.id !== original.id);

    const keys = await rebuiltBy(mediaId, event.id);
    assert.equal(keys.length, firstKeys.length);
    assert.deepEqual(await queuedForDeletion(firstKeys), firstKeys);
    const events = (await traceMedia(platform, mediaId)).events;
    const sinceReady = events.slice(events.findIndex((e) => e.toStatus === 'ready'));
    assert.deepEqual(
      sinceReady.map((e) => e.toStatus),
      ['ready', 'ready'],
    );
    assert.equal(events.at(-1)?.detail?.requestId, event.id);

    const list = await ops().get<{ items: OutboxItem[] }>(
      `/v1/ops/outbox?state=published&mediaId=${mediaId}`,
    );
    const replayed = list.body.items.find((i) => i.id === event.id);
    assert.equal(replayed?.replayOf, original.id);
    assert.ok(replayed?.publishedAt, 'the relay published the replay');
  });

  test('the CLI lists the outbox and replays by event id; a replay of a replay points at the original', async () => {
    const listed = await mediagate<{ pending: number; items: OutboxItem[] }>(platform, [
      'outbox',
      'list',
      '--all',
      '--media',
      mediaId,
    ]);
    const requests = listed.items.filter((i) => i.topic === 'optimize.request');
    assert.equal(requests.length, 2);
    const firstReplay = requests.find((i) => i.replayOf !== null) as OutboxItem;
    const previous = (await variantKeys(mediaId)).sort();

    const replay = await mediagate<{ replayed: { id: string; replayOf: string }[] }>(platform, [
      'outbox',
      'replay',
      '--ids',
      firstReplay.id,
    ]);
    assert.equal(replay.replayed[0]?.replayOf, original.id);
    await rebuiltBy(mediaId, replay.replayed[0]?.id ?? '');
    assert.deepEqual(await queuedForDeletion(previous), previous);

    const pending = await mediagate<{ pending: number; items: OutboxItem[] }>(platform, ['outbox', 'list']);
    assert.equal(pending.pending, 0);
    assert.deepEqual(pending.items, []);
  });

  test('the CLI replays a time range of original events', async () => {
    const replay = await mediagate<{ replayed: { id: string; replayOf: string }[] }>(platform, [
      'outbox',
      'replay',
      '--from',
      startedAt,
      '--to',
      new Date().toISOString(),
    ]);
    assert.deepEqual(
      replay.replayed.map((r) => r.replayOf),
      [original.id],
      'replays are not replayed again',
    );
    await rebuiltBy(mediaId, replay.replayed[0]?.id ?? '');
  });

  test('a replay that selects nothing is a 404; the CLI rejects a malformed selector', async () => {
    const none = await ops().post<{ code: string }>('/v1/ops/outbox/replay', {
      ids: ['00000000-0000-4000-8000-000000000000'],
    });
    assert.equal(none.status, 404);
    assert.equal(none.body.code, 'not_found');
    await assert.rejects(mediagate(platform, ['outbox', 'replay', '--ids', 'not-a-uuid']), /uuid/);
  });
});

describe('ops access', () => {
  test('operator routes need the admin role', async () => {
    const requests: [string, string, unknown?][] = [
      ['GET', '/v1/ops/outbox'],
      ['POST', '/v1/ops/outbox/replay', { mediaId: '00000000-0000-4000-8000-000000000000' }],
      ['GET', '/v1/ops/dlq?topic=optimize.request'],
      ['POST', '/v1/ops/dlq/redrive', { topic: 'optimize.request' }],
      ['GET', '/v1/ops/media/00000000-0000-4000-8000-000000000000/trace'],
    ];
    for (const [method, path, body] of requests) {
      const forbidden = await alice().call<{ code: string }>(method, path, body);
      assert.equal(forbidden.status, 403, `${method} ${path}`);
      assert.equal(forbidden.body.code, 'admin_required');
      const anonymous = await apiClient(platform, undefined).call(method, path, body);
      assert.equal(anonymous.status, 401, `${method} ${path}`);
    }
  });

  test('an empty dead-letter queue lists nothing and redrives nothing', async () => {
    const list = await ops().get<{ items: unknown[] }>('/v1/ops/dlq?topic=optimize.result&group=api.results');
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.items, []);
    const redrive = await ops().post('/v1/ops/dlq/redrive', { topic: 'optimize.result' });
    assert.deepEqual(redrive.body, { redriven: 0, requeuedMedia: 0 });
  });
});
