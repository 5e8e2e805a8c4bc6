import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppError } from '../contracts/errors.ts';
import { createTokenVerifier, signDevToken, type VerifyToken } from '../platform/auth/jwt.ts';
import { signUrlToken } from '../platform/auth/url-token.ts';
import { loadConfig } from '../platform/config.ts';
import { cachedUrlGrants, cachedViewers } from './credentials.ts';

const secret = randomBytes(32).toString('hex');
const auth = loadConfig({ JWT_SECRET: secret }).auth;

/** The real verifier, counting how often the edge asks it. */
function countingVerifier() {
  const verify = createTokenVerifier(auth);
  const counted: VerifyToken & { calls: number } = Object.assign(
    async (token: string) => {
      counted.calls++;
      return verify(token);
    },
    { calls: 0 },
  );
  return counted;
}

const refusal = (code: string) => (error: unknown) => error instanceof AppError && error.code === code;

test('a Bearer token is verified once per window, and refused once its exp has passed, cached or not', async () => {
  const verify = countingVerifier();
  const viewerOf = cachedViewers(verify, { ttlMs: 60_000 });
  // `exp` is whole seconds from a whole-second `iat`: a 1 s lifetime can have 1 ms left when signed.
  const token = signDevToken(secret, { sub: 'alice', roles: ['admin'] }, 2);
  assert.deepEqual(await viewerOf(token), { sub: 'alice', admin: true });
  // Synchronously: a read whose credentials are remembered waits for nothing.
  assert.deepEqual(viewerOf(token), { sub: 'alice', admin: true });
  assert.equal(verify.calls, 1, 'the second read is answered from memory');
  await sleep(3100);
  await assert.rejects(async () => viewerOf(token), refusal('token_expired'));
});

test('a refused Bearer token is never remembered: each attempt is verified and refused', async () => {
  const verify = countingVerifier();
  const viewerOf = cachedViewers(verify, { ttlMs: 60_000 });
  const forged = signDevToken(randomBytes(32).toString('hex'), { sub: 'alice', roles: ['admin'] });
  for (let i = 0; i < 3; i++) await assert.rejects(async () => viewerOf(forged), refusal('unauthenticated'));
  assert.equal(verify.calls, 3);
});

test('a window of 0 remembers nothing', async () => {
  const verify = countingVerifier();
  const viewerOf = cachedViewers(verify, { ttlMs: 0 });
  const token = signDevToken(secret, { sub: 'alice', roles: [] });
  await viewerOf(token);
  await viewerOf(token);
  assert.equal(verify.calls, 2);
});

test('a remembered ?token= opens only its own key, and only until its exp', async () => {
  const grantOf = cachedUrlGrants(secret, { ttlMs: 60_000 });
  const now = Math.floor(Date.now() / 1000);
  const token = signUrlToken(secret, { key: 'derived/a/x/low.webp', sub: 'alice', exp: now + 2 });
  assert.equal(grantOf(token, 'derived/a/x/low.webp').sub, 'alice');
  assert.equal(grantOf(token, 'derived/a/x/low.webp').sub, 'alice');
  assert.throws(() => grantOf(token, 'derived/b/x/low.webp'), refusal('forbidden'));
  const forged = signUrlToken(randomBytes(32).toString('hex'), {
    key: 'derived/a/x/low.webp',
    sub: 'a',
    exp: now + 60,
  });
  assert.throws(() => grantOf(forged, 'derived/a/x/low.webp'), refusal('forbidden'));
  await sleep(3100);
  assert.throws(() => grantOf(token, 'derived/a/x/low.webp'), refusal('token_expired'));
});
