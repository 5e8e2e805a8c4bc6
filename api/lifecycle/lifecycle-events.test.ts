import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Value } from '@sinclair/typebox/value';
import { and, asc, eq, sql } from 'drizzle-orm';
import { type OptimizeResult, topics } from '../../contracts/events.ts';
import { LifecycleEvent } from '../../contracts/lifecycle.ts';
import { media, outbox, uploadSession } from '../../db/schema.ts';
import type { Moderator, Verdict } from '../../platform/moderation/moderation.ts';
import { signatureHeader, signWebhook } from '../../platform/webhooks/signature.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { retireMedia } from '../media/delete-media.ts';
import { applyPartialResult } from '../results/apply-partial.ts';
import { applyOptimizeResult } from '../results/apply-result.ts';
import { subscribeVirusReports } from '../results/virus-consumer.ts';
import { expireUploadSessions } from '../storage/expire-sessions.ts';

/**
 * Every change an app can see is announced once on the lifecycle topic, through the outbox, in the change's
 * own transaction: the event of each path, its payload held to the public contract, nothing for a change
 * that does not happen, and one id per event however often it is relayed or replayed.
 */
const secret = 'whsec_lifecycle_test_secret';
let vendorSays: Verdict = { decision: 'allow' };
const vendor: Moderator = {
  name: 'lifecycle test vendor',
  judge: async () => vendorSays,
};

let api: InProcessApi;
let photos = 0;
before(async () => {
  api = await startInProcessApi({ moderator: vendor, env: { MODERATION_WEBHOOK_SECRET: secret } });
});
after(() => api?.stop());

/** A photo no other upload shares, so no verdict or twin is reused between tests. */
function photo(): Promise<Buffer> {
  photos += 1;
  return makeJpegWithGps(64, 48, { lat: 1 + photos / 100, lon: 2 });
}

interface Announced {
  rowId: string;
  replayOf: string | null;
  key: string;
  event: LifecycleEvent;
}

/** The media's lifecycle events in the order the relay sends them, each checked against the contract. */
async function announced(mediaId: string): Promise<Announced[]> {
  const rows = await api.ctx.db
    .select()
    .from(outbox)
    .where(and(eq(outbox.aggregateId, mediaId), eq(outbox.topic, topics.mediaLifecycle)))
    .orderBy(asc(outbox.seq));
  return rows.map((row) => {
    const errors = [...Value.Errors(LifecycleEvent, row.payload)].map((e) => `${e.path} ${e.message}`);
    assert.deepEqual(errors, [], `${row.eventType} breaks the contract`);
    const event = row.payload as LifecycleEvent;
    assert.equal(row.eventType, event.type);
    return { rowId: row.id, replayOf: row.replayOf, key: row.aggregateId, event };
  });
}
const typesOf = async (mediaId: string) => (await announced(mediaId)).map((a) => a.event.type);

async function uploaded(owner: string, bytes?: Buffer) {
  return api.upload(owner, bytes ?? (await photo()), 'image/jpeg', 'p.jpg');
}
async function complete(owner: string, session: Awaited<ReturnType<typeof uploaded>>) {
  return api.call(owner, {
    method: 'POST',
    url: `/v1/uploads/${session.uploadId}/complete`,
    payload: { parts: session.parts },
  });
}
async function processing(owner: string): Promise<string> {
  const session = await uploaded(owner);
  const done = await complete(owner, session);
  assert.equal(done.statusCode, 202, done.body);
  return session.mediaId;
}

function result(mediaId: string, patch: Partial<OptimizeResult> = {}): OptimizeResult {
  const requestId = randomUUID();
  const output = (quality: string, format: string) => ({
    quality,
    format,
    key: `derived/${mediaId}/${requestId}/${quality}.${format}`,
    url: '',
    width: 100,
    height: 75,
    size: 1000,
  });
  return {
    mediaId,
    requestId,
    success: true,
    processed: [output('low', 'webp'), output('low-avif', 'avif'), output('thumbnail', 'webp')],
    sha256: null,
    metadata: {},
    ...patch,
  };
}
async function ready(owner: string, patch: Partial<OptimizeResult> = {}): Promise<string> {
  const mediaId = await processing(owner);
  assert.equal(await applyOptimizeResult(api.ctx.db, randomUUID(), result(mediaId, patch)), 'applied');
  return mediaId;
}

describe('processing outcomes', () => {
  test('ready is announced once, with the renditions the view names; a redelivered result adds nothing', async () => {
    const mediaId = await processing('ready-owner');
    assert.deepEqual(await typesOf(mediaId), [], 'passing the gate is not announced');
    const eventId = randomUUID();
    const outcome = result(mediaId);
    assert.equal(await applyOptimizeResult(api.ctx.db, eventId, outcome), 'applied');
    assert.equal(await applyOptimizeResult(api.ctx.db, eventId, outcome), 'duplicate');
    const [only, ...rest] = await announced(mediaId);
    assert.equal(rest.length, 0);
    assert.equal(only?.key, mediaId);
    assert.equal(only?.event.id, only?.rowId, 'the payload id is the outbox event id');
    assert.deepEqual(only?.event.data, {
      mediaId,
      ownerId: 'ready-owner',
      kind: 'image',
      variants: [
        { quality: 'low', format: 'webp', width: 100, height: 75, bytes: 1000 },
        { quality: 'thumbnail', format: 'webp', width: 100, height: 75, bytes: 1000 },
      ],
    });
  });

  test('failed carries the code and detail the owner sees; a late result for a deleted media announces nothing', async () => {
    const mediaId = await processing('failed-owner');
    const failure = result(mediaId, {
      success: false,
      processed: [],
      error: { code: 'image_undecodable', detail: 'bad pixels' },
    });
    assert.equal(await applyOptimizeResult(api.ctx.db, randomUUID(), failure), 'applied');
    const [failed] = await announced(mediaId);
    assert.equal(failed?.event.type, 'media.failed');
    assert.deepEqual(failed?.event.type === 'media.failed' && failed.event.data.reason, {
      code: 'image_undecodable',
      detail: 'bad pixels',
    });

    const gone = await processing('failed-owner');
    const deleted = await api.call('failed-owner', { method: 'DELETE', url: `/v1/media/${gone}` });
    assert.equal(deleted.statusCode, 204);
    assert.equal(await applyOptimizeResult(api.ctx.db, randomUUID(), result(gone)), 'stale');
    assert.deepEqual(await typesOf(gone), ['media.deleted']);
  });

  test('each rendition of a running job is announced once, a redelivered partial not again', async () => {
    const mediaId = await processing('partial-owner');
    const first = result(mediaId, { stage: 'partial' });
    first.processed = first.processed.slice(0, 2);
    assert.equal(await applyPartialResult(api.ctx.db, first), 'applied');
    assert.equal(await applyPartialResult(api.ctx.db, first), 'applied');
    const second = result(mediaId, { stage: 'partial' });
    second.processed = [
      { ...first.processed[0], quality: 'medium', key: `${first.processed[0]?.key}.m` },
    ] as OptimizeResult['processed'];
    assert.equal(await applyPartialResult(api.ctx.db, second), 'applied');
    const variants = (await announced(mediaId)).map((a) =>
      a.event.type === 'media.variant.ready' ? a.event.data.variant.quality : a.event.type,
    );
    assert.deepEqual(variants, ['low', 'medium'], 'the AVIF sibling is not a rendition of its own');
  });
});

/** A vendor's verdict on a job, signed as the vendor signs it, each with a fresh vendor event id. */
function deliverVerdict(mediaId: string, vendorJobId: string, verdict: 'allowed' | 'rejected') {
  const body = JSON.stringify({
    eventId: `evt_${randomUUID()}`,
    vendor: 'acme',
    mediaId,
    verdict,
    vendorJobId,
    ...(verdict === 'rejected' ? { categories: [{ name: 'violence', score: 0.9 }] } : {}),
  });
  return api.call(undefined, {
    method: 'POST',
    url: '/v1/webhooks/moderation',
    headers: {
      'content-type': 'application/json',
      [signatureHeader]: signWebhook(secret, Math.floor(Date.now() / 1000), body),
    },
    payload: body,
  });
}

describe('rejections say who rejected', () => {
  test('the gate: the file itself', async () => {
    const session = await uploaded('gate-owner', Buffer.from('not a jpeg at all, just text bytes'));
    const done = await complete('gate-owner', session);
    assert.equal(done.statusCode, 422, done.body);
    const [rejected, ...rest] = await announced(session.mediaId);
    assert.equal(rest.length, 0);
    assert.ok(rejected?.event.type === 'media.rejected');
    assert.equal(rejected.event.data.by, 'gate');
    assert.equal(rejected.event.data.reason.code, done.json().code);
  });

  test("the gate's moderation vendor, then a verdict arriving later, are moderation", async () => {
    vendorSays = { decision: 'reject', categories: [{ name: 'nsfw', score: 0.99 }] };
    const session = await uploaded('moderated-owner');
    assert.equal((await complete('moderated-owner', session)).statusCode, 422);
    const [atGate] = await announced(session.mediaId);
    assert.ok(atGate?.event.type === 'media.rejected');
    assert.equal(atGate.event.data.by, 'moderation');
    assert.equal(atGate.event.data.reason.code, 'moderation_rejected');

    vendorSays = { decision: 'pending', vendorJobId: 'job-late' };
    const later = await ready('moderated-owner');
    vendorSays = { decision: 'allow' };
    const verdict = await deliverVerdict(later, 'job-late', 'rejected');
    assert.ok(verdict.statusCode < 300, verdict.body);
    const events = await announced(later);
    assert.deepEqual(
      events.map((a) => a.event.type),
      ['media.ready', 'media.rejected'],
    );
    const takedown = events[1]?.event;
    assert.ok(takedown?.type === 'media.rejected');
    assert.equal(takedown.data.by, 'moderation');
    assert.equal(takedown.data.reason.code, 'moderation_rejected');
  });

  test('a pending judgement allowed later is an update: others may see the media from then on', async () => {
    vendorSays = { decision: 'pending', vendorJobId: 'job-allowed' };
    const mediaId = await ready('allowed-owner');
    vendorSays = { decision: 'allow' };
    assert.ok((await deliverVerdict(mediaId, 'job-allowed', 'allowed')).statusCode < 300);
    assert.ok((await deliverVerdict(mediaId, 'job-allowed', 'allowed')).statusCode < 300);
    assert.deepEqual(
      await typesOf(mediaId),
      ['media.ready', 'media.updated'],
      'a repeated verdict adds nothing',
    );
  });

  test('malware reported by the scanner', async () => {
    const mediaId = await processing('infected-owner');
    const subscription = await subscribeVirusReports(api.ctx.db, api.bus, api.ctx.logger);
    try {
      const report = { mediaId, virusName: 'Eicar-Test-Signature', actionTaken: 'object_deleted' };
      const message = {
        id: randomUUID(),
        key: mediaId,
        type: 'media.virus.detected',
        payload: report,
        headers: {},
      };
      await api.bus.publish(topics.virusDetected, [message]);
      while ((await typesOf(mediaId)).length === 0) await sleep(50);
    } finally {
      await subscription.stop();
    }
    const [rejected, ...rest] = await announced(mediaId);
    assert.equal(rest.length, 0);
    assert.ok(rejected?.event.type === 'media.rejected');
    assert.equal(rejected.event.data.by, 'malware');
    assert.equal(rejected.event.data.reason.code, 'malware');
  });
});

describe('deletes say who deleted', () => {
  test('the owner: a delete, and an aborted upload', async () => {
    const mediaId = await ready('deleting-owner');
    assert.equal(
      (await api.call('deleting-owner', { method: 'DELETE', url: `/v1/media/${mediaId}` })).statusCode,
      204,
    );
    assert.equal(
      (await api.call('deleting-owner', { method: 'DELETE', url: `/v1/media/${mediaId}` })).statusCode,
      404,
    );
    const deleted = (await announced(mediaId)).at(-1)?.event;
    assert.ok(deleted?.type === 'media.deleted');
    assert.equal(deleted.data.by, 'owner');
    assert.deepEqual(
      await typesOf(mediaId),
      ['media.ready', 'media.deleted'],
      'a second delete is refused, not announced',
    );

    const session = await uploaded('deleting-owner');
    const aborted = await api.call('deleting-owner', {
      method: 'DELETE',
      url: `/v1/uploads/${session.uploadId}`,
    });
    assert.equal(aborted.statusCode, 204, aborted.body);
    const [abort] = await announced(session.mediaId);
    assert.ok(abort?.event.type === 'media.deleted');
    assert.equal(abort.event.data.by, 'owner');
  });

  test('an upload that expired unfinished', async () => {
    const session = await uploaded('expiring-owner');
    await api.ctx.db
      .update(uploadSession)
      .set({ expiresAt: sql`now() - interval '1 hour'` })
      .where(eq(uploadSession.id, session.uploadId));
    assert.ok((await expireUploadSessions(api.ctx.db, api.ctx.storage, 0)) >= 1);
    const [expired] = await announced(session.mediaId);
    assert.ok(expired?.event.type === 'media.deleted');
    assert.equal(expired.event.data.by, 'expiry');
  });

  test('a change that rolls back announces nothing', async () => {
    const mediaId = await ready('rollback-owner');
    const [row] = await api.ctx.db.select().from(media).where(eq(media.id, mediaId));
    await assert.rejects(
      api.ctx.db.transaction(async (tx) => {
        await retireMedia(tx, {
          mediaId,
          objectKey: row?.objectKey ?? '',
          actor: 'test',
          to: 'deleted',
          by: 'operator',
          detail: {},
        });
        throw new Error('the rest of the change failed');
      }),
      /the rest of the change failed/,
    );
    assert.deepEqual(await typesOf(mediaId), ['media.ready']);
  });
});

describe('updates', () => {
  const owner = 'gallery-owner';
  const patch = (mediaId: string, payload: Record<string, unknown>) =>
    api.call(owner, { method: 'PATCH', url: `/v1/media/${mediaId}`, payload });
  const updates = async (mediaId: string) =>
    (await announced(mediaId)).flatMap((a) => (a.event.type === 'media.updated' ? [a.event.data] : []));

  test('a visibility change is announced once; asking for what holds is not', async () => {
    const mediaId = await ready(owner);
    assert.equal((await patch(mediaId, { visibility: 'public' })).statusCode, 200);
    assert.equal((await patch(mediaId, { visibility: 'public' })).statusCode, 200);
    assert.deepEqual(
      (await updates(mediaId)).map((u) => u.visibility),
      ['public'],
    );
  });

  test('every media a move or a delete shifts is announced once with its new slot', async () => {
    const [a, b, c] = [await ready(owner), await ready(owner), await ready(owner)];
    const before = await Promise.all([a, b, c].map(async (id) => (await updates(id)).length));
    const slotOf = async (id: string) => (await updates(id)).at(-1)?.position;
    const moved = await patch(c, { position: 0, visibility: 'public' });
    assert.equal(moved.statusCode, 200, moved.body);
    const after = await Promise.all([a, b, c].map(async (id) => (await updates(id)).length));
    assert.deepEqual(
      after.map((n, i) => n - (before[i] ?? 0)),
      [1, 1, 1],
      'the mover once for both its changes, each shifted media once',
    );
    assert.deepEqual((await updates(c)).at(-1), {
      mediaId: c,
      ownerId: owner,
      kind: 'image',
      visibility: 'public',
      position: 0,
    });
    assert.equal((await patch(c, { position: 0 })).statusCode, 200);
    assert.equal((await updates(c)).length, after[2], 'a move to where it is announces nothing');

    const beforeDelete = await slotOf(a);
    assert.equal((await api.call(owner, { method: 'DELETE', url: `/v1/media/${c}` })).statusCode, 204);
    assert.equal(await slotOf(a), (beforeDelete ?? 0) - 1, 'closing the gap moves the media after it');
  });

  test('a deduplicated clone is born ready and announced as such', async () => {
    const bytes = await photo();
    const sha256 = randomBytes(32).toString('hex');
    const session = await uploaded('twin-owner', bytes);
    assert.equal((await complete('twin-owner', session)).statusCode, 202);
    const source = session.mediaId;
    await applyOptimizeResult(api.ctx.db, randomUUID(), result(source, { sha256 }));
    const clone = await api.call('twin-owner', {
      method: 'POST',
      url: '/v1/uploads',
      payload: { filename: 'again.jpg', contentType: 'image/jpeg', size: bytes.length, sha256 },
    });
    assert.equal(clone.statusCode, 200, clone.body);
    const cloneId = clone.json().media.id as string;
    const [born, ...rest] = await announced(cloneId);
    assert.equal(rest.length, 0);
    assert.ok(born?.event.type === 'media.ready');
    assert.deepEqual(
      born.event.data.variants.map((v) => v.quality),
      ['low', 'thumbnail'],
    );
  });
});

test('a replayed event keeps its id, whatever became of its media; reprocessing re-announces nothing old', async () => {
  const mediaId = await ready('replay-owner');
  const [original] = await announced(mediaId);
  const replay = (payload: Record<string, unknown>) =>
    api.app.inject({
      method: 'POST',
      url: '/v1/ops/outbox/replay',
      headers: { authorization: `Bearer ${api.token('operator', { admin: true })}` },
      payload,
    });
  const reprocess = await replay({ mediaId });
  assert.equal(reprocess.statusCode, 200, reprocess.body);
  assert.equal(reprocess.json().replayed.length, 1, 'the optimize request alone');
  assert.equal((await announced(mediaId)).length, 1);

  assert.equal(
    (await api.call('replay-owner', { method: 'DELETE', url: `/v1/media/${mediaId}` })).statusCode,
    204,
  );
  const byId = await replay({ ids: [original?.rowId] });
  assert.equal(byId.statusCode, 200, byId.body);
  assert.deepEqual(byId.json().skipped, []);
  const [first, deleted, again, ...rest] = await announced(mediaId);
  assert.equal(rest.length, 0);
  assert.equal(deleted?.event.type, 'media.deleted');
  assert.equal(again?.replayOf, original?.rowId);
  assert.notEqual(again?.rowId, first?.rowId, 'a replay is a new outbox row');
  assert.deepEqual(again?.event, first?.event, 'carrying the same event, id included');

  const byTopic = await replay({
    from: new Date(Date.now() - 60_000).toISOString(),
    to: new Date().toISOString(),
    topic: 'lifecycle',
  });
  assert.equal(byTopic.statusCode, 200, byTopic.body);
  const ids = new Set((await announced(mediaId)).map((a) => a.event.id));
  assert.deepEqual(
    ids,
    new Set([first?.event.id, deleted?.event.id]),
    'a range of the topic replays its events, ids kept',
  );
});

test('the lifecycle topic is one operators can inspect, with nothing parked while no consumer of it fails', async () => {
  const reply = await api.app.inject({
    method: 'GET',
    url: '/v1/ops/dlq?topic=lifecycle',
    headers: { authorization: `Bearer ${api.token('operator', { admin: true })}` },
  });
  assert.equal(reply.statusCode, 200, reply.body);
  assert.deepEqual(reply.json().items, []);
});
