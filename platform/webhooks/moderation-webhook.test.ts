import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ModerationWebhookBody } from './moderation-webhook.ts';
import { signatureHeader, signWebhook, verifyWebhook } from './signature.ts';

const secret = 'webhook-secret-for-tests';
let app: FastifyInstance;

// A route shaped like the real one: the raw bytes are kept for the signature, which is checked before the
// body is validated, so unsigned traffic learns nothing about the schema.
before(async () => {
  app = Fastify({ ajv: { customOptions: { removeAdditional: false, allErrors: true } } });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    (request as unknown as { rawBody: string }).rawBody = raw as string;
    try {
      done(null, JSON.parse(raw as string));
    } catch (error) {
      done(error as Error);
    }
  });
  app.post(
    '/v1/webhooks/moderation',
    {
      schema: { body: ModerationWebhookBody },
      preValidation: async (request, reply) => {
        const check = verifyWebhook({
          secret,
          signatureHeader: request.headers[signatureHeader],
          rawBody: (request as unknown as { rawBody: string }).rawBody,
        });
        if (!check.ok) return reply.status(401).send(check);
      },
    },
    async () => ({ accepted: true }),
  );
  await app.ready();
});
after(() => app?.close());

const valid = {
  eventId: 'evt_01HZX',
  vendor: 'in-house',
  mediaId: '3f2b8c1a-4d5e-4f6a-8b7c-9d0e1f2a3b4c',
  verdict: 'rejected',
  categories: [{ name: 'nsfw', score: 0.97 }],
  vendorJobId: 'job-17',
};

const post = (body: unknown) => {
  const payload = JSON.stringify(body);
  return app.inject({
    method: 'POST',
    url: '/v1/webhooks/moderation',
    headers: {
      'content-type': 'application/json',
      [signatureHeader]: signWebhook(secret, Math.floor(Date.now() / 1000), payload),
    },
    payload,
  });
};

test('a signed, well-formed verdict is accepted; the minimal form too', async () => {
  assert.equal((await post(valid)).statusCode, 200);
  assert.equal(
    (await post({ eventId: 'e', vendor: 'v', mediaId: valid.mediaId, verdict: 'allowed' })).statusCode,
    200,
  );
});

test('bodies outside the schema are refused before any verdict is applied', async () => {
  const withoutVendor = Object.fromEntries(Object.entries(valid).filter(([key]) => key !== 'vendor'));
  for (const body of [
    { ...valid, verdict: 'maybe' },
    { ...valid, mediaId: 'not-a-uuid' },
    { ...valid, eventId: '' },
    { ...valid, categories: [{ name: 'nsfw', score: 1.5 }] },
    { ...valid, extra: true },
    withoutVendor,
  ]) {
    assert.equal((await post(body)).statusCode, 400, JSON.stringify(body));
  }
});

test('an unsigned body is refused before its shape is even looked at', async () => {
  const response = await app.inject({
    method: 'POST',
    url: '/v1/webhooks/moderation',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ anything: true }),
  });
  assert.equal(response.statusCode, 401);
  assert.deepEqual(response.json(), { ok: false, reason: 'missing' });
});

test('the signature covers the exact bytes received', async () => {
  const payload = JSON.stringify(valid);
  const response = await app.inject({
    method: 'POST',
    url: '/v1/webhooks/moderation',
    headers: {
      'content-type': 'application/json',
      [signatureHeader]: signWebhook(secret, Math.floor(Date.now() / 1000), payload),
    },
    // Same JSON value, different bytes: a re-serialising proxy breaks the signature, as it should.
    payload: JSON.stringify(valid, null, 2),
  });
  assert.equal(response.statusCode, 401);
  assert.deepEqual(response.json(), { ok: false, reason: 'mismatch' });
});
