import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MediaView } from '../../contracts/media.ts';
import type { UploadSession } from '../../contracts/uploads.ts';
import { signatureHeader, signWebhook } from '../../platform/webhooks/signature.ts';
import { apiClient } from '../client.ts';
import { type Platform, startPlatform } from '../harness.ts';
import { assertStillServes, type BadInput, corpus, expecting, openSession, send } from './fixtures.ts';

// Webhooks touch only the API and Postgres: the embedded bus is enough.
const secret = `whsec_${randomBytes(16).toString('hex')}`;
let platform: Platform;
let target: UploadSession;

before(async () => {
  platform = await startPlatform({ bus: 'embedded', env: { MODERATION_WEBHOOK_SECRET: secret } });
  target = await openSession(apiClient(platform, platform.token('alice')), { size: 1000 });
});
after(() => platform?.stop());

const now = () => Math.floor(Date.now() / 1000);
/** Event ids the forged deliveries below used; none of them may be spent by a refused delivery. */
const forgedEventIds: string[] = [];

/** A rejection of alice's media, as a vendor would send it; each call is a new delivery. */
function verdict(overrides: Record<string, unknown> = {}): string {
  const eventId = `evt_${randomUUID()}`;
  forgedEventIds.push(eventId);
  return JSON.stringify({
    eventId,
    vendor: 'acme',
    mediaId: target.mediaId,
    verdict: 'rejected',
    categories: [{ name: 'nsfw', score: 0.99 }],
    ...overrides,
  });
}

const deliver = (body: string | undefined, headers: Record<string, string>) =>
  send(platform.apiUrl, 'POST', '/v1/webhooks/moderation', {
    raw: body,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
  });
const signed = (body: string, at = now(), key = secret) =>
  deliver(body, { [signatureHeader]: signWebhook(key, at, body) });

const refused = expecting(401, 'webhook_signature_invalid');

const signatures: BadInput[] = [
  refused('no signature header', () => deliver(verdict(), {})),
  refused('no signature header and no body', () => deliver(undefined, {})),
  refused('an empty signature header', () => deliver(verdict(), { [signatureHeader]: '' })),
  refused('a forged signature', () =>
    deliver(verdict(), { [signatureHeader]: `t=${now()},v1=${randomBytes(32).toString('hex')}` }),
  ),
  refused('a signature made with another secret', () =>
    signed(verdict(), now(), 'not-the-shared-secret-at-all'),
  ),
  refused('a captured delivery replayed 6 minutes later', () => signed(verdict(), now() - 360)),
  refused('a timestamp 6 minutes in the future', () => signed(verdict(), now() + 360)),
  refused('a body changed after signing', () => {
    const body = verdict({ verdict: 'allowed' });
    return deliver(body.replace('allowed', 'rejected'), {
      [signatureHeader]: signWebhook(secret, now(), body),
    });
  }),
  refused('an HMAC over the body alone, without the timestamp', () => {
    const body = verdict();
    const mac = createHmac('sha256', secret).update(body).digest('hex');
    return deliver(body, { [signatureHeader]: `t=${now()},v1=${mac}` });
  }),
  refused('a header without v1', () => deliver(verdict(), { [signatureHeader]: `t=${now()}` })),
  refused('a timestamp that is not a number', () => {
    const body = verdict();
    const v1 = signWebhook(secret, now(), body).split(',')[1];
    return deliver(body, { [signatureHeader]: `t=yesterday,${v1}` });
  }),
  refused('an unsigned body that is not even JSON', () => deliver('{"eventId":', {})),
];

const invalid = expecting(400, 'validation_failed');
const bodies: BadInput[] = [
  expecting(400, 'malformed_json')('a signed body that is not JSON', () => signed('{"eventId":')),
  invalid('a signed verdict the contract does not know', () => signed(verdict({ verdict: 'maybe' }))),
  invalid('a signed verdict with an extra field', () => signed(verdict({ takedown: 'everything' }))),
  invalid('a signed verdict on a non-uuid media id', () => signed(verdict({ mediaId: '42' }))),
  expecting(404, 'media_not_found')('a signed verdict on unknown media', () =>
    signed(verdict({ mediaId: randomUUID() })),
  ),
];

describe('webhook signatures', () => corpus(signatures));
describe('signed webhooks with bad bodies', () => corpus(bodies));

test('nothing a refused delivery sent took effect, and it spent no event id', async () => {
  const alice = apiClient(platform, platform.token('alice'));
  const media = await alice.get<MediaView>(`/v1/media/${target.mediaId}`);
  assert.equal(media.body.status, 'awaiting_upload');
  // A delivery under an event id a forger used first is judged on its merits, not taken for a repeat:
  // this media has no vendor job, so it is refused as unknown (a spent id would answer `duplicate`).
  const genuine = JSON.stringify({
    eventId: forgedEventIds[0],
    vendor: 'acme',
    mediaId: target.mediaId,
    verdict: 'allowed',
  });
  const reply = await signed(genuine);
  assert.equal(reply.status, 409, JSON.stringify(reply.body));
  assert.equal(reply.body.code, 'moderation_job_unknown');
});

test('after the corpus the API still serves, and nothing leaked across users', async () => {
  await assertStillServes(platform);
});
