import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import {
  callbackToken,
  formatJobRef,
  mintNonce,
  parseJobRef,
  verifyCallbackToken,
} from './callback-token.ts';

const secret = 'a-server-secret-of-some-length';

test('a token this server minted names its media and job; any change to it is refused', () => {
  const claim = { mediaId: randomUUID(), nonce: mintNonce() };
  const token = callbackToken(secret, claim);
  assert.deepEqual(verifyCallbackToken(secret, token), claim);
  assert.equal(verifyCallbackToken('another-secret-of-some-length', token), undefined);

  const [mediaId, nonce, mac] = token.split('.') as [string, string, string];
  const otherMedia = randomUUID();
  assert.equal(
    verifyCallbackToken(secret, `${otherMedia}.${nonce}.${mac}`),
    undefined,
    'moved to another media',
  );
  assert.equal(
    verifyCallbackToken(secret, `${mediaId}.${mintNonce()}.${mac}`),
    undefined,
    'moved to another job',
  );
  const flipped = `${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
  assert.equal(verifyCallbackToken(secret, `${mediaId}.${nonce}.${flipped}`), undefined);
});

test('malformed tokens are refused without throwing', () => {
  for (const token of [
    '',
    '.',
    'x.y.z',
    `${randomUUID()}..`,
    '../../etc/passwd',
    'é'.repeat(120),
    `${'a'.repeat(36)}.${'b'.repeat(16)}.${'c'.repeat(43)}`,
  ]) {
    assert.equal(verifyCallbackToken(secret, token), undefined, token);
  }
});

test('the stored job reference round-trips and nothing else parses as one', () => {
  const ref = { vendorMediaId: 'med_1a2b:with-colon', nonce: mintNonce(), attempt: 2 };
  assert.deepEqual(parseJobRef(formatJobRef(ref)), ref);
  for (const other of [
    null,
    '',
    'job-7',
    'sightengine-video:',
    'sightengine-video:nonce:',
    'sightengine-video::med',
  ]) {
    assert.equal(parseJobRef(other), undefined, String(other));
  }
});
