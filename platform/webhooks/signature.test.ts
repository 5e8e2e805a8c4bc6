import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signWebhook, verifyWebhook } from './signature.ts';

const secret = 'whsec_5d1f0c1e9a7b4c3d';
const now = 1_750_000_000;
const body = JSON.stringify({ eventId: 'evt_1', vendor: 'sightengine', mediaId: 'm', verdict: 'rejected' });
const verify = (
  signatureHeader: string | string[] | undefined,
  overrides: Partial<Parameters<typeof verifyWebhook>[0]> = {},
) => verifyWebhook({ secret, signatureHeader, rawBody: body, nowSeconds: now, ...overrides });

test('a correctly signed body verifies, as a string or as the raw bytes', () => {
  const header = signWebhook(secret, now, body);
  assert.match(header, /^t=1750000000,v1=[0-9a-f]{64}$/);
  assert.deepEqual(verify(header), { ok: true });
  assert.deepEqual(verify(header, { rawBody: Buffer.from(body) }), { ok: true });
});

test('the signature is HMAC-SHA256 over "<timestamp>.<body>" in hex', () => {
  const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
  assert.equal(signWebhook(secret, now, body), `t=${now},v1=${expected}`);
});

test('a tampered body does not verify', () => {
  const header = signWebhook(secret, now, body);
  assert.deepEqual(verify(header, { rawBody: body.replace('rejected', 'allowed') }), {
    ok: false,
    reason: 'mismatch',
  });
  assert.deepEqual(verify(header, { rawBody: `${body} ` }), { ok: false, reason: 'mismatch' });
});

test('a different secret does not verify', () => {
  assert.deepEqual(verify(signWebhook('another-secret', now, body)), { ok: false, reason: 'mismatch' });
});

test('a re-signed timestamp without the secret does not verify', () => {
  const original = signWebhook(secret, now - 3_600, body);
  const replayed = original.replace(`t=${now - 3_600}`, `t=${now}`);
  assert.deepEqual(verify(replayed), { ok: false, reason: 'mismatch' });
});

test('stale: more than 5 minutes old or more than 5 minutes ahead', () => {
  assert.deepEqual(verify(signWebhook(secret, now - 300, body)), { ok: true });
  assert.deepEqual(verify(signWebhook(secret, now + 300, body)), { ok: true });
  assert.deepEqual(verify(signWebhook(secret, now - 301, body)), { ok: false, reason: 'stale' });
  assert.deepEqual(verify(signWebhook(secret, now + 301, body)), { ok: false, reason: 'stale' });
  assert.deepEqual(verify(signWebhook(secret, now - 301, body), { toleranceSeconds: 600 }), { ok: true });
});

test('malformed headers are told apart from wrong signatures', () => {
  const good = signWebhook(secret, now, body);
  const v1 = good.split(',v1=')[1] ?? '';
  for (const header of [
    'nonsense',
    `v1=${v1}`,
    `t=${now}`,
    `t=soon,v1=${v1}`,
    `t=${now},v1=${v1.slice(0, 63)}`,
    `t=${now},v1=${'z'.repeat(64)}`,
    `t=${now},t=${now},v1=${v1}`,
    [good, good],
  ]) {
    assert.deepEqual(verify(header), { ok: false, reason: 'malformed' }, String(header));
  }
});

test('a missing header is reported as missing', () => {
  assert.deepEqual(verify(undefined), { ok: false, reason: 'missing' });
  assert.deepEqual(verify(''), { ok: false, reason: 'missing' });
});

test('one matching v1 among several is enough (a vendor rolling its secret); unknown schemes are ignored', () => {
  const old = signWebhook('old-secret', now, body).split(',v1=')[1];
  const current = signWebhook(secret, now, body).split(',v1=')[1];
  assert.deepEqual(verify(`t=${now},v1=${old},v1=${current},v2=whatever`), { ok: true });
});
