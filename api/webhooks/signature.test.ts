// What we sign, the reference Standard Webhooks library verifies.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { generateSecret, signedHeaders } from './signature.ts';

const body = JSON.stringify({ id: randomUUID(), type: 'media.ready', data: { note: 'é ✓ 😀' } });

test("standardwebhooks' Webhook.verify accepts our headers, and refuses them for another body or secret", () => {
  const secret = generateSecret();
  assert.match(secret, /^whsec_[A-Za-z0-9+/]{32}$/);
  const headers = signedHeaders([secret], randomUUID(), body);
  assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
  assert.throws(() => new Webhook(secret).verify(`${body} `, headers));
  assert.throws(() => new Webhook(generateSecret()).verify(body, headers));
});

test('during a rotation both secrets sign: a receiver on either verifies', () => {
  const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
  const headers = signedHeaders([newSecret, oldSecret], randomUUID(), body);
  assert.equal(headers['webhook-signature']?.split(' ').length, 2);
  assert.ok(new Webhook(oldSecret).verify(body, headers));
  assert.ok(new Webhook(newSecret).verify(body, headers));
});

test('a stale attempt timestamp is refused by the receiver (replay protection is theirs to keep)', () => {
  const secret = generateSecret();
  const headers = signedHeaders([secret], randomUUID(), body, new Date(Date.now() - 10 * 60_000));
  assert.throws(() => new Webhook(secret).verify(body, headers), /timestamp/i);
});
