import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MediaView } from '../contracts/media.ts';
import type { ModerationWebhookBody } from '../contracts/webhooks.ts';
import { signatureHeader, signWebhook } from '../platform/webhooks/signature.ts';
import { makeJpeg, uploadAs } from './bad-input/fixtures.ts';
import { apiClient, type Reply } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { keysOf, readThroughEdge, stored, sweep, trace } from './photos.ts';
import { type Judge, startGenericJudge } from './vendors/colour-judges.ts';
import {
  type GenericModerationDouble,
  startGenericModerationDouble,
} from './vendors/generic-moderation-double.ts';

// An in-house model behind MODERATION_URL judges uploads; it defers its verdict on mostly blue pictures
// and delivers it later, naming the job, on the signed webhook. The bad-input corpus covers unsigned and
// malformed deliveries; the middle tier (api/moderation) the job matching in detail.
const secret = `whsec_${randomBytes(16).toString('hex')}`;
let double: GenericModerationDouble;
let judge: Judge;
let platform: Platform;

before(async () => {
  double = await startGenericModerationDouble();
  judge = await startGenericJudge(double, { blue: 'pending' });
  platform = await startPlatform({
    env: { MODERATION_URL: judge.url, MODERATION_TOKEN: double.token, MODERATION_WEBHOOK_SECRET: secret },
  });
});
after(async () => {
  await platform?.stop();
  await judge?.close();
  await double?.close();
});

const alice = () => apiClient(platform, platform.token('alice'));
const bob = () => apiClient(platform, platform.token('bob'));

type Verdict = Omit<ModerationWebhookBody, 'eventId' | 'vendor'> & { eventId?: string };
/** Delivers a verdict as the vendor does: signed now with the shared secret. */
async function deliver(verdict: Verdict): Promise<Reply<{ outcome?: string; code?: string }>> {
  const body = JSON.stringify({ eventId: `evt_${randomUUID()}`, vendor: 'in-house', ...verdict });
  const response = await fetch(`${platform.apiUrl}/v1/webhooks/moderation`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [signatureHeader]: signWebhook(secret, Math.floor(Date.now() / 1000), body),
    },
    body,
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as { outcome?: string; code?: string },
  };
}

async function uploadReady(bytes: Buffer): Promise<MediaView> {
  const { mediaId, reply } = await uploadAs(alice(), bytes, 'image/jpeg');
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  const media = await alice().waitForMedia(mediaId, (m) => m.status !== 'processing');
  assert.equal(media.status, 'ready', JSON.stringify(media.failure));
  return media;
}

describe('a vendor that judges later', () => {
  test('the media proceeds while moderation is pending, then a signed rejection takes it down', async () => {
    const media = await uploadReady(await makeJpeg([20, 40, 210]));
    const asked = double.requests.find((r) => r.mediaId === media.id);
    assert.equal(asked?.images, 1, 'the model was sent the picture');
    const pending = (await trace(platform, media.id)).media as {
      moderationStatus?: string;
      moderationJobId?: string;
    };
    assert.equal(pending.moderationStatus, 'pending');
    assert.match(pending.moderationJobId ?? '', /^job-/);

    const verdict = await deliver({
      mediaId: media.id,
      verdict: 'rejected',
      vendorJobId: pending.moderationJobId,
      categories: [{ name: 'nsfw', score: 0.97 }],
    });
    assert.equal(verdict.status, 200, JSON.stringify(verdict.body));
    assert.equal(verdict.body.outcome, 'applied');
    const down = await alice().get<MediaView>(`/v1/media/${media.id}`);
    assert.equal(down.body.status, 'rejected');
    assert.equal(down.body.failure?.code, 'moderation_rejected');
    for (const variant of media.variants) assert.equal((await readThroughEdge(variant.url)).status, 410);
  });
});

describe('verdicts on a ready, public photo whose judgement is pending', () => {
  let media: MediaView;
  let keys: string[];
  let job: string;
  const rejected = `evt_${randomUUID()}`;

  before(async () => {
    media = await uploadReady(await makeJpeg([20, 40, 200]));
    const published = await alice().call<MediaView>('PATCH', `/v1/media/${media.id}`, {
      visibility: 'public',
    });
    assert.equal(published.status, 200, JSON.stringify(published.body));
    media = published.body;
    const traced = await trace(platform, media.id);
    keys = keysOf(traced);
    assert.ok(keys.length > 1, 'an original and its variants');
    job = (traced.media as { moderationJobId?: string }).moderationJobId ?? '';
    assert.match(job, /^job-/);
  });

  test('anyone can read its variants through the edge', async () => {
    for (const variant of media.variants) assert.equal((await readThroughEdge(variant.url)).status, 302);
  });

  test('a signed verdict naming no job of this media is refused, changes nothing and spends no event id', async () => {
    for (const vendorJobId of [undefined, 'job-never-issued']) {
      const forged = await deliver({
        eventId: rejected,
        mediaId: media.id,
        verdict: 'rejected',
        vendorJobId,
      });
      assert.equal(forged.status, 409, JSON.stringify(forged.body));
      assert.equal(forged.body.code, 'moderation_job_unknown');
    }
    assert.equal((await alice().get<MediaView>(`/v1/media/${media.id}`)).body.status, 'ready');
    assert.equal((await readThroughEdge(media.variants[0]?.url ?? '')).status, 302);
  });

  test('the vendor’s rejection of the job takes it down: gone from the gallery, 410 at the edge, deleted from storage', async () => {
    const verdict = await deliver({
      eventId: rejected,
      mediaId: media.id,
      verdict: 'rejected',
      vendorJobId: job,
      categories: [{ name: 'violence', score: 0.91 }],
    });
    assert.deepEqual([verdict.status, verdict.body.outcome], [200, 'applied']);

    const down = await alice().get<MediaView>(`/v1/media/${media.id}`);
    assert.equal(down.body.status, 'rejected');
    assert.equal(down.body.failure?.code, 'moderation_rejected');
    assert.match(down.body.failure?.detail ?? '', /violence 0\.91/);
    const gallery = await alice().get<{ items: MediaView[] }>('/v1/media?owner=me');
    assert.ok(!gallery.body.items.some((m) => m.id === media.id));
    assert.equal((await bob().get(`/v1/media/${media.id}`)).status, 404, 'no longer public');

    await sweep(platform);
    for (const key of keys) assert.equal(await stored(platform, key), false, key);
    for (const variant of media.variants) {
      assert.equal((await readThroughEdge(variant.url)).status, 410, variant.quality);
      assert.equal(
        (await readThroughEdge(variant.url, platform.token('alice'))).status,
        410,
        variant.quality,
      );
    }
  });

  test('redelivering the rejection is a duplicate; a later verdict for the settled job is ignored', async () => {
    const again = await deliver({
      eventId: rejected,
      mediaId: media.id,
      verdict: 'allowed',
      vendorJobId: job,
    });
    assert.deepEqual([again.status, again.body.outcome], [200, 'duplicate']);
    const late = await deliver({ mediaId: media.id, verdict: 'allowed', vendorJobId: job });
    assert.deepEqual([late.status, late.body.outcome], [200, 'ignored']);
    assert.equal((await alice().get<MediaView>(`/v1/media/${media.id}`)).body.status, 'rejected');
  });
});
