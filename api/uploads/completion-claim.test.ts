import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import {
  ModerationUnavailableError,
  type Moderator,
  type Verdict,
} from '../../platform/moderation/moderation.ts';
import { type InProcessApi, startInProcessApi, type UploadedSession } from '../../test/in-process.ts';
import { assertConsistent, uploadFacts } from '../../test/upload-facts.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { runStorageSweep } from '../storage/garbage-sweeper.ts';

/**
 * A vendor the test steers: `hold()` makes its next judgement wait until released (a slow vendor, or a
 * completion whose process froze), `failNext()` makes it report an outage.
 */
function steeredModerator() {
  const held: (() => void)[] = [];
  let holdNext = false;
  let outageNext = false;
  let calls = 0;
  const moderator: Moderator = {
    name: 'steered test vendor',
    async judge(): Promise<Verdict> {
      calls += 1;
      if (outageNext) {
        outageNext = false;
        throw new ModerationUnavailableError('vendor outage (test)', 3);
      }
      if (holdNext) {
        holdNext = false;
        await new Promise<void>((resolve) => held.push(resolve));
      }
      return { decision: 'allow' };
    },
  };
  return {
    moderator,
    hold: () => {
      holdNext = true;
    },
    failNext: () => {
      outageNext = true;
    },
    releaseAll: () => {
      for (const resolve of held.splice(0)) resolve();
    },
    get calls() {
      return calls;
    },
  };
}

const vendor = steeredModerator();
let api: InProcessApi;
let photo: Buffer;
before(async () => {
  api = await startInProcessApi({
    moderator: vendor.moderator,
    // Losers answer at once instead of waiting; a claim is stale after 3 s instead of 2 minutes.
    env: { UPLOAD_COMPLETION_WAIT_SECONDS: '0', UPLOAD_COMPLETION_LEASE_SECONDS: '3' },
  });
  photo = await makeJpegWithGps(64, 48, { lat: 1, lon: 2 });
});
after(async () => {
  vendor.releaseAll();
  await api.stop();
});

const complete = (s: UploadedSession) =>
  api.call('olga', { method: 'POST', url: `/v1/uploads/${s.uploadId}/complete`, payload: {} });
const state = async (s: UploadedSession) =>
  (await api.call('olga', { method: 'GET', url: `/v1/uploads/${s.uploadId}` })).json().state as string;
const run = (query: ReturnType<typeof sql>) => api.database.db.execute(query);

/** Starts a completion whose vendor call hangs; resolves once it holds the session, to its pending reply. */
async function completionInFlight(session: UploadedSession) {
  vendor.hold();
  const before = vendor.calls;
  // inject() dispatches only once its result is awaited or then()-ed.
  const reply = Promise.resolve(complete(session));
  while (vendor.calls === before) await sleep(20);
  assert.equal(await state(session), 'completing');
  return { reply };
}

/** A completion whose process died after claiming: the session is left `completing` with an old claim. */
async function strandClaim(session: UploadedSession): Promise<void> {
  await run(sql`update upload_session set state = 'completing', closed_at = now() - interval '1 hour'
                 where id = ${session.uploadId}`);
}

test('while a completion is in flight, other requests get 409 upload_completing with Retry-After', async () => {
  const session = await api.upload('olga', photo, 'image/jpeg');
  const first = (await completionInFlight(session)).reply;
  const refusals = [
    await complete(session),
    await api.call('olga', { method: 'DELETE', url: `/v1/uploads/${session.uploadId}` }),
    await api.call('olga', { method: 'DELETE', url: `/v1/media/${session.mediaId}` }),
    await api.call('olga', {
      method: 'POST',
      url: `/v1/uploads/${session.uploadId}/parts`,
      payload: { partNumbers: [1] },
    }),
  ];
  for (const reply of refusals) {
    assert.equal(reply.statusCode, 409, reply.body);
    assert.equal(reply.json().code, 'upload_completing');
    assert.ok(Number(reply.headers['retry-after']) >= 1);
  }
  vendor.releaseAll();
  assert.equal((await first).statusCode, 202);
  assert.equal((await complete(session)).statusCode, 202, 'and afterwards the recorded outcome');
});

test('a completion that hangs past its lease is taken over; its late result changes nothing', async () => {
  const session = await api.upload('olga', photo, 'image/jpeg');
  const hung = (await completionInFlight(session)).reply;
  let takeover = await complete(session);
  for (let i = 0; takeover.statusCode === 409 && i < 100; i++) {
    await sleep(200);
    takeover = await complete(session);
  }
  assert.equal(takeover.statusCode, 202, takeover.body);
  assert.equal(takeover.json().status, 'processing');

  vendor.releaseAll();
  const late = await hung;
  assert.equal(late.statusCode, 202, late.body);
  assert.equal(late.json().id, session.mediaId);
  const facts = await uploadFacts(api, session.uploadId);
  assertConsistent(facts);
  assert.equal(facts.optimizeRequests, 1, 'one optimize request, not one per gate run');
});

test('a completion stranded by a crash is taken over by the next complete', async () => {
  const session = await api.upload('olga', photo, 'image/jpeg');
  await strandClaim(session);
  const reply = await complete(session);
  assert.equal(reply.statusCode, 202, reply.body);
  assertConsistent(await uploadFacts(api, session.uploadId));
});

test('a completion stranded by a crash can be aborted', async () => {
  const session = await api.upload('olga', photo, 'image/jpeg');
  await strandClaim(session);
  const aborted = await api.call('olga', { method: 'DELETE', url: `/v1/uploads/${session.uploadId}` });
  assert.equal(aborted.statusCode, 204, aborted.body);
  const facts = await uploadFacts(api, session.uploadId);
  assertConsistent(facts);
  assert.equal(facts.session, 'aborted');
});

test('a vendor outage hands the session back: 503, the upload reads open, completing again succeeds', async () => {
  const session = await api.upload('olga', photo, 'image/jpeg');
  vendor.failNext();
  const down = await complete(session);
  assert.equal(down.statusCode, 503, down.body);
  assert.equal(down.json().code, 'moderation_unavailable');
  assert.equal(await state(session), 'open');
  const up = await complete(session);
  assert.equal(up.statusCode, 202, up.body);
});

test('the expiry sweeper leaves a live completion alone, and wins over one still running past expiry', async () => {
  const session = await api.upload('olga', photo, 'image/jpeg');
  const running = (await completionInFlight(session)).reply;
  await run(sql`update upload_session set expires_at = now() - interval '1 minute'
                 where id = ${session.uploadId}`);
  const graced = await runStorageSweep(api.database.db, api.ctx.storage);
  assert.equal(graced.sessionsExpired, 0, 'within the grace a completion may still finish');

  const swept = await runStorageSweep(api.database.db, api.ctx.storage, { graceSeconds: 0 });
  assert.equal(swept.sessionsExpired, 1);
  vendor.releaseAll();
  const late = await running;
  assert.equal(late.statusCode, 410, late.body);
  assert.equal(late.json().code, 'upload_expired');
  const facts = await uploadFacts(api, session.uploadId);
  assertConsistent(facts);
  assert.deepEqual([facts.session, facts.media], ['expired', 'deleted']);

  const [row] = (await run(sql`select object_key from media where id = ${session.mediaId}`)).rows as {
    object_key: string;
  }[];
  await runStorageSweep(api.database.db, api.ctx.storage, { graceSeconds: 0 });
  assert.equal(await api.ctx.storage.head(row?.object_key ?? ''), undefined, 'the assembled object is freed');
});

test('deleting a media that awaits its upload aborts the upload and frees its parts', async () => {
  const session = await api.upload('olga', photo, 'image/jpeg');
  const deleted = await api.call('olga', { method: 'DELETE', url: `/v1/media/${session.mediaId}` });
  assert.equal(deleted.statusCode, 204, deleted.body);
  const facts = await uploadFacts(api, session.uploadId);
  assertConsistent(facts);
  assert.equal(facts.session, 'aborted');
  const [row] = (
    await run(sql`select object_key, storage_upload_id from upload_session where id = ${session.uploadId}`)
  ).rows as { object_key: string; storage_upload_id: string }[];
  assert.equal(
    await api.ctx.storage.listParts(row?.object_key ?? '', row?.storage_upload_id ?? ''),
    undefined,
  );
  const reply = await complete(session);
  assert.equal(reply.statusCode, 409, reply.body);
  assert.equal(reply.json().code, 'upload_not_open');
});
