import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { freePort } from '../../deploy/ports.ts';
import { asyncVideoModeration } from '../../platform/moderation/async-video.ts';
import { callbackToken, mintNonce, parseJobRef } from '../../platform/moderation/callback-token.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { type SightengineDouble, startSightengineDouble } from '../../test/vendors/sightengine-double.ts';
import { repollPendingJobs } from './repoll-sweep.ts';

// Videos of a second or more go to Sightengine's asynchronous video API (its double, on loopback); the API
// listens on a real port so the double can call back, as the vendor would from outside.
const secret = 'whsec_sightengine_callback_secret';
let api: InProcessApi;
let double: SightengineDouble;
let video: Buffer;
let base: string;

before(async () => {
  double = await startSightengineDouble();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  api = await startInProcessApi({
    env: {
      SIGHTENGINE_API_USER: double.apiUser,
      SIGHTENGINE_API_SECRET: double.apiSecret,
      SIGHTENGINE_BASE_URL: double.baseUrl,
      MODERATION_WEBHOOK_SECRET: secret,
      MODERATION_ASYNC_MIN_SECONDS: '1',
      MODERATION_CALLBACK_BASE_URL: base,
      MODERATION_ASYNC_REPOLL_AFTER_SECONDS: '1',
    },
  });
  await api.app.listen({ host: '127.0.0.1', port });
  const dir = await mkdtemp(join(tmpdir(), 'mediagate-se-video-'));
  const path = join(dir, 'clip.mp4');
  const source = 'testsrc=duration=2:size=160x120:rate=5';
  const h264 = '-c:v libx264 -preset ultrafast -pix_fmt yuv420p -movflags +faststart'.split(' ');
  await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', source, ...h264, path]);
  video = await readFile(path);
  await rm(dir, { recursive: true, force: true });
});
after(async () => {
  await api?.stop();
  await double?.close();
});

type Row = {
  status: string;
  moderation: string | null;
  job: string | null;
};
async function row(mediaId: string): Promise<Row> {
  const { rows } = await api.database.db.execute<Row>(
    sql`select status, moderation_status as moderation, moderation_job_id as job from media where id = ${mediaId}`,
  );
  return rows[0] as Row;
}

/** A video of `owner` completed (202) and handed to the vendor's asynchronous API. */
async function completed(owner: string): Promise<{ mediaId: string; vendorMediaId: string; nonce: string }> {
  const session = await api.uploadCompleted(owner, video, 'video/mp4');
  const stored = await row(session.mediaId);
  assert.equal(stored.moderation, 'pending');
  const ref = parseJobRef(stored.job);
  assert.ok(ref, `job ${stored.job}`);
  return { mediaId: session.mediaId, ...ref };
}

/** Plays the worker's part (ready, public, its hash) so the read rules can be seen. */
async function publish(mediaId: string, sha256 = randomUUID()) {
  await api.database.db.execute(
    sql`update media set status = 'ready', visibility = 'public', sha256 = ${sha256} where id = ${mediaId}`,
  );
}

const post = (token: string, body: unknown, raw?: string) =>
  fetch(`${base}/v1/webhooks/moderation/sightengine/${token}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ?? JSON.stringify(body),
  });
const finished = (vendorMediaId: string, frames: unknown[] = []) => ({
  media: { id: vendorMediaId, uri: 'x' },
  request: 'req_1',
  data: { status: 'finished', frames },
});
const view = (sub: string, mediaId: string) => api.call(sub, { method: 'GET', url: `/v1/media/${mediaId}` });

describe('the vendor calls back', () => {
  test('the vendor read the video from its URL; ongoing is acknowledged, finished applied once, replays ignored', async () => {
    double.video.plan({ ongoing: true, callbacks: 2 });
    const { mediaId, vendorMediaId } = await completed('alice');
    await publish(mediaId);
    assert.equal((await view('bob', mediaId)).statusCode, 404, 'pending: not public yet');
    const own = await view('alice', mediaId);
    assert.equal(own.statusCode, 200, 'its owner sees it');
    assert.equal(own.json().moderation, 'pending', 'and is told why no one else does');
    await double.video.settled();
    const job = double.video.jobs.find((j) => j.id === vendorMediaId);
    assert.equal(job?.fetchedBytes, video.length, 'the presigned URL served the whole video');
    assert.deepEqual(
      job?.callbacks.map((c) => [c.sent, c.status, (c.body as { outcome?: string }).outcome]),
      [
        ['ongoing', 200, 'pending'],
        ['finished', 200, 'applied'],
        ['finished', 200, 'ignored'],
      ],
    );
    assert.ok((job?.statusQueries ?? 0) >= 1, 'the verdict was confirmed at the status endpoint');
    assert.equal((await row(mediaId)).moderation, 'allowed');
    const seen = await view('bob', mediaId);
    assert.equal(seen.statusCode, 200, 'allowed: public');
    assert.equal(seen.json().moderation, 'allowed');
  });

  test('a callback body claiming what the vendor does not say changes nothing: the status endpoint decides', async () => {
    double.video.plan({ callbacks: 0 });
    const { mediaId, vendorMediaId, nonce } = await completed('alice');
    await double.video.settled();
    const gory = [{ info: { id: 'f', position: 0 }, gore: { prob: 0.99 } }];
    const reply = await post(callbackToken(secret, { mediaId, nonce }), finished(vendorMediaId, gory));
    assert.equal(reply.status, 200);
    assert.equal(((await reply.json()) as { outcome: string }).outcome, 'applied');
    assert.equal((await row(mediaId)).moderation, 'allowed', 'the vendor found nothing');
  });
});

describe('callbacks that are not the job’s', () => {
  test('forged, malformed or absent tokens are 401 problem+json and touch nothing', async () => {
    double.video.plan({ callbacks: 0 });
    const { mediaId, vendorMediaId, nonce } = await completed('carol');
    const good = callbackToken(secret, { mediaId, nonce });
    const forged = callbackToken('whsec_someone_elses_secret_000', { mediaId, nonce });
    for (const token of [forged, `${good}x`, 'x', encodeURIComponent('../../ops')]) {
      const reply = await post(token, finished(vendorMediaId));
      assert.equal(reply.status, 401, token);
      assert.equal(reply.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      assert.equal(((await reply.json()) as { code: string }).code, 'webhook_token_invalid');
    }
    const unparsed = await post(forged, undefined, '{not json');
    assert.equal(unparsed.status, 401, 'the token is checked before the body is read');
    assert.equal((await row(mediaId)).moderation, 'pending');
  });

  test('a token for another job of the media, or a body naming another job, is 409 moderation_job_unknown', async () => {
    double.video.plan({ callbacks: 0 });
    const { mediaId, vendorMediaId, nonce } = await completed('carol');
    const stale = await post(callbackToken(secret, { mediaId, nonce: mintNonce() }), finished(vendorMediaId));
    assert.equal(stale.status, 409);
    assert.equal(((await stale.json()) as { code: string }).code, 'moderation_job_unknown');
    const otherJob = await post(callbackToken(secret, { mediaId, nonce }), finished('med_not_this_one'));
    assert.equal(otherJob.status, 409);
    const otherMedia = await post(
      callbackToken(secret, { mediaId: randomUUID(), nonce }),
      finished(vendorMediaId),
    );
    assert.equal(otherMedia.status, 404);
    assert.equal((await row(mediaId)).moderation, 'pending');
  });
});

describe('a rejection', () => {
  test('takes the media down and every media holding the same bytes, whoever owns it', async () => {
    double.video.plan({ scores: { 'gore.prob': 0.93 }, callbacks: 0 }, { callbacks: 0 });
    const target = await completed('dave');
    const twin = await completed('erin');
    const sha = randomUUID();
    await publish(target.mediaId, sha);
    await publish(twin.mediaId, sha);
    // A twin the vendor judged clean already: same bytes, so it goes too.
    await api.database.db.execute(
      sql`update media set moderation_status = 'allowed' where id = ${twin.mediaId}`,
    );
    await double.video.settled();
    // The vendor's callback, sent once the worker's part is played (the double's own would race it).
    const token = callbackToken(secret, { mediaId: target.mediaId, nonce: target.nonce });
    const reply = await post(token, finished(target.vendorMediaId));
    assert.equal(reply.status, 200, await reply.clone().text());

    for (const [owner, mediaId] of [
      ['dave', target.mediaId],
      ['erin', twin.mediaId],
    ] as const) {
      const seen = (await view(owner, mediaId)).json();
      assert.equal(seen.status, 'rejected', mediaId);
      assert.equal(seen.failure?.code, 'moderation_rejected');
      assert.match(seen.failure?.detail ?? '', /gore 0\.93/);
      assert.equal((await view('zed', mediaId)).statusCode, 404);
    }
  });
});

describe('the vendor failing', () => {
  test('an outage at submission is 503 with Retry-After, the upload kept; completing again submits', async () => {
    const session = await api.upload('gil', video, 'video/mp4');
    const complete = () =>
      api.call('gil', {
        method: 'POST',
        url: `/v1/uploads/${session.uploadId}/complete`,
        payload: { parts: session.parts },
      });
    double.fail({ status: 503 }, { status: 503 }, { status: 503 });
    const down = await complete();
    assert.equal(down.statusCode, 503, down.body);
    assert.equal(down.json().code, 'moderation_unavailable');
    assert.ok(Number(down.headers['retry-after']) >= 1);
    assert.equal((await row(session.mediaId)).status, 'awaiting_upload');
    double.video.plan({ callbacks: 0 });
    assert.equal((await complete()).statusCode, 202);
    assert.equal((await row(session.mediaId)).moderation, 'pending');
  });

  test('a job the vendor failed is submitted again under a new token; the old one is then refused', async () => {
    double.video.plan({ fail: true }, { callbacks: 1 });
    const first = await completed('hal');
    await double.video.settled();
    const failed = double.video.jobs.find((j) => j.id === first.vendorMediaId);
    assert.deepEqual(
      failed?.callbacks.map((c) => (c.body as { outcome?: string }).outcome),
      ['resubmitted'],
      JSON.stringify(failed?.callbacks),
    );
    await double.video.settled();
    const now = await row(first.mediaId);
    const second = parseJobRef(now.job);
    assert.notEqual(second?.vendorMediaId, first.vendorMediaId);
    assert.equal(now.moderation, 'allowed', 'the second job finished clean and called back');
    const old = await post(
      callbackToken(secret, { mediaId: first.mediaId, nonce: first.nonce }),
      finished(first.vendorMediaId),
    );
    assert.equal(old.status, 409);
  });
});

describe('a vendor that fails every job', () => {
  test('is given three jobs, then the media stays pending, its owner’s alone', async () => {
    double.video.plan({ fail: true }, { fail: true }, { fail: true });
    const before = double.video.jobs.length;
    const { mediaId } = await completed('ivy');
    for (let i = 0; i < 3; i++) await double.video.settled();
    const jobs = double.video.jobs.slice(before);
    const outcomes = jobs.map((j) => j.callbacks.map((c) => (c.body as { outcome?: string }).outcome));
    assert.deepEqual(outcomes, [['resubmitted'], ['resubmitted'], ['pending']]);
    assert.equal((await row(mediaId)).moderation, 'pending');
    assert.equal(parseJobRef((await row(mediaId)).job)?.attempt, 3);
  });
});

describe('a callback that never comes', () => {
  test('the re-poll sweep settles the job from the status endpoint', async () => {
    double.video.plan({ callbacks: 0, scores: { 'weapon.classes.firearm': 0.95 } });
    const { mediaId, vendorMediaId } = await completed('fay');
    await double.video.settled();
    const asyncVideo = asyncVideoModeration(api.config.moderation);
    assert.ok(asyncVideo);
    await repollPendingJobs(api.ctx, asyncVideo);
    assert.equal((await row(mediaId)).moderation, 'pending', 'not overdue yet');
    await sleep(1100);
    const report = await repollPendingJobs(api.ctx, asyncVideo);
    assert.ok((report.outcomes.applied ?? 0) >= 1, JSON.stringify(report));
    const settled = await row(mediaId);
    assert.deepEqual([settled.status, settled.moderation], ['rejected', 'rejected']);
    assert.ok((double.video.jobs.find((j) => j.id === vendorMediaId)?.statusQueries ?? 0) >= 1);
  });
});
