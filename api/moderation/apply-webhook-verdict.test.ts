import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import type { Moderator, Verdict } from '../../platform/moderation/moderation.ts';
import { signatureHeader, signWebhook } from '../../platform/webhooks/signature.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { assertGapless } from '../../test/upload-facts.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';

// The vendor defers every judgement it is asked for while `deferring`, under a fresh job id, and allows
// at once otherwise.
const secret = 'whsec_in_process_test_secret';
let deferring = true;
let jobs = 0;
const vendor: Moderator = {
  name: 'deferring test vendor',
  async judge(): Promise<Verdict> {
    if (!deferring) return { decision: 'allow' };
    jobs += 1;
    return { decision: 'pending', vendorJobId: `job-${jobs}` };
  },
};

let api: InProcessApi;
let photo: Buffer;
before(async () => {
  api = await startInProcessApi({ moderator: vendor, env: { MODERATION_WEBHOOK_SECRET: secret } });
  photo = await makeJpegWithGps(64, 48, { lat: 1, lon: 2 });
});
after(() => api.stop());

interface Delivery {
  mediaId: string;
  verdict: 'allowed' | 'rejected';
  vendorJobId?: string;
  eventId?: string;
}
async function deliver(d: Delivery) {
  const body = JSON.stringify({
    eventId: d.eventId ?? `evt_${randomUUID()}`,
    vendor: 'acme',
    mediaId: d.mediaId,
    verdict: d.verdict,
    ...(d.vendorJobId === undefined ? {} : { vendorJobId: d.vendorJobId }),
    ...(d.verdict === 'rejected' ? { categories: [{ name: 'nsfw', score: 0.97 }] } : {}),
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

/** An upload of `owner` completed while the vendor answers as `deferring` says: its media and job. */
async function completed(owner: string, defer = true) {
  deferring = defer;
  const session = await api.uploadCompleted(owner, photo, 'image/jpeg');
  const { rows } = await api.database.db.execute<{ job: string | null; moderation: string | null }>(
    sql`select moderation_job_id as job, moderation_status as moderation from media where id = ${session.mediaId}`,
  );
  return { mediaId: session.mediaId, job: rows[0]?.job ?? undefined, moderation: rows[0]?.moderation };
}

const status = async (owner: string, mediaId: string) =>
  (await api.call(owner, { method: 'GET', url: `/v1/media/${mediaId}` })).json().status as string;

function refused(reply: Awaited<ReturnType<typeof deliver>>, context: string) {
  assert.equal(reply.statusCode, 409, `${context}: ${reply.body}`);
  assert.equal(reply.json().code, 'moderation_job_unknown', context);
}

describe('verdicts that answer no pending job of the media are refused and change nothing', () => {
  test('no job id, a job id never issued, another media’s job, a media judged at once', async () => {
    const target = await completed('uma');
    const other = await completed('uma');
    const judgedAtOnce = await completed('uma', false);
    assert.equal(target.moderation, 'pending');
    assert.equal(judgedAtOnce.moderation, 'allowed');
    assert.equal(judgedAtOnce.job, undefined);

    refused(await deliver({ mediaId: target.mediaId, verdict: 'rejected' }), 'no job id');
    refused(
      await deliver({ mediaId: target.mediaId, verdict: 'rejected', vendorJobId: 'job-never-issued' }),
      'a job never issued',
    );
    refused(
      await deliver({ mediaId: target.mediaId, verdict: 'rejected', vendorJobId: other.job }),
      "another media's job",
    );
    refused(
      await deliver({ mediaId: judgedAtOnce.mediaId, verdict: 'rejected', vendorJobId: target.job }),
      'a media that never had a job',
    );
    refused(
      await deliver({ mediaId: judgedAtOnce.mediaId, verdict: 'rejected' }),
      'a media without job, no id',
    );

    for (const m of [target, other, judgedAtOnce]) assert.equal(await status('uma', m.mediaId), 'processing');
  });

  test('a verdict for unknown media is 404', async () => {
    const reply = await deliver({ mediaId: randomUUID(), verdict: 'rejected', vendorJobId: 'job-1' });
    assert.equal(reply.statusCode, 404, reply.body);
    assert.equal(reply.json().code, 'media_not_found');
  });

  test('a refused delivery spends no event id: the genuine one under the same id is applied', async () => {
    const target = await completed('vera');
    const eventId = `evt_${randomUUID()}`;
    refused(await deliver({ eventId, mediaId: target.mediaId, verdict: 'rejected' }), 'forged first');
    const genuine = await deliver({
      eventId,
      mediaId: target.mediaId,
      verdict: 'allowed',
      vendorJobId: target.job,
    });
    assert.equal(genuine.statusCode, 200, genuine.body);
    assert.equal(genuine.json().outcome, 'applied');
  });
});

describe('the verdict for the pending job', () => {
  test('a rejection takes the media down and closes the gap in the gallery; a redelivery is a duplicate', async () => {
    const first = await completed('walt');
    const target = await completed('walt');
    const last = await completed('walt');
    const eventId = `evt_${randomUUID()}`;
    const applied = await deliver({
      eventId,
      mediaId: target.mediaId,
      verdict: 'rejected',
      vendorJobId: target.job,
    });
    assert.equal(applied.statusCode, 200, applied.body);
    assert.equal(applied.json().outcome, 'applied');
    const down = (await api.call('walt', { method: 'GET', url: `/v1/media/${target.mediaId}` })).json();
    assert.equal(down.status, 'rejected');
    assert.equal(down.failure?.code, 'moderation_rejected');
    await assertGapless(api, 'walt');
    for (const m of [first, last]) assert.equal(await status('walt', m.mediaId), 'processing');

    const again = await deliver({
      eventId,
      mediaId: target.mediaId,
      verdict: 'rejected',
      vendorJobId: target.job,
    });
    assert.equal(again.json().outcome, 'duplicate');
  });

  test('a rejection takes down every media holding the same bytes, whoever owns it; galleries stay gapless', async () => {
    const target = await completed('zoe');
    const ownTwin = await completed('zoe', false);
    const unrelated = await completed('zoe');
    const theirTwin = await completed('quinn', false);
    // The worker's part: the verified hash of what each stored.
    const sha = randomUUID();
    for (const m of [target, ownTwin, theirTwin]) {
      await api.database.db.execute(sql`update media set sha256 = ${sha} where id = ${m.mediaId}`);
    }
    const applied = await deliver({ mediaId: target.mediaId, verdict: 'rejected', vendorJobId: target.job });
    assert.equal(applied.json().outcome, 'applied', applied.body);
    for (const [owner, m] of [
      ['zoe', target],
      ['zoe', ownTwin],
      ['quinn', theirTwin],
    ] as const) {
      const down = (await api.call(owner, { method: 'GET', url: `/v1/media/${m.mediaId}` })).json();
      assert.equal(down.status, 'rejected', m.mediaId);
      assert.equal(down.failure?.code, 'moderation_rejected');
    }
    assert.equal(await status('zoe', unrelated.mediaId), 'processing');
    await assertGapless(api, 'zoe');
    await assertGapless(api, 'quinn');
  });

  test('once settled, another verdict for the same job is recorded and ignored', async () => {
    const target = await completed('xena');
    const allowed = await deliver({ mediaId: target.mediaId, verdict: 'allowed', vendorJobId: target.job });
    assert.equal(allowed.json().outcome, 'applied');
    const late = await deliver({ mediaId: target.mediaId, verdict: 'rejected', vendorJobId: target.job });
    assert.equal(late.statusCode, 200, late.body);
    assert.equal(late.json().outcome, 'ignored');
    assert.equal(await status('xena', target.mediaId), 'processing');
  });

  test('a verdict racing its owner’s delete and reorder: no 5xx, and the gallery stays gapless', async () => {
    for (let round = 0; round < 10; round++) {
      const target = await completed('yuri');
      await completed('yuri');
      const replies = await Promise.all([
        deliver({ mediaId: target.mediaId, verdict: 'rejected', vendorJobId: target.job }),
        api.call('yuri', {
          method: 'PATCH',
          url: `/v1/media/${target.mediaId}`,
          payload: { position: 0, visibility: 'public' },
        }),
        api.call('yuri', { method: 'DELETE', url: `/v1/media/${target.mediaId}` }),
      ]);
      for (const reply of replies) assert.ok(reply.statusCode < 500, `round ${round}: ${reply.body}`);
      const [verdict, patched, deleted] = replies;
      assert.ok(['applied', 'ignored'].includes(verdict?.json().outcome), `round ${round}`);
      assert.ok([200, 404].includes(patched?.statusCode ?? 0), `round ${round}: ${patched?.body}`);
      assert.ok([204, 404].includes(deleted?.statusCode ?? 0), `round ${round}: ${deleted?.body}`);
      const { rows } = await api.database.db.execute<{ status: string }>(
        sql`select status from media where id = ${target.mediaId}`,
      );
      assert.ok(
        ['rejected', 'deleted'].includes(rows[0]?.status ?? ''),
        `round ${round}: ${rows[0]?.status}`,
      );
      await assertGapless(api, 'yuri');
    }
  });
});
