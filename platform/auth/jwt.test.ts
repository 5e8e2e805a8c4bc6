import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTokenVerifier, signDevToken } from './jwt.ts';

const secret = 's'.repeat(32);
const verify = createTokenVerifier({ jwtSecret: secret });

test('a dev token always carries exp, so verifiers that require it accept it', async () => {
  const token = signDevToken(secret, { sub: 'alice', roles: ['admin'] }, 60);
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  assert.equal(typeof claims.exp, 'number');
  assert.deepEqual(await verify(token), { sub: 'alice', roles: ['admin'] });
});

test('a lifetime that would leave exp out (`mediagate token --ttl 0` or `--ttl abc`) is refused at signing', () => {
  for (const ttl of [0, Number.NaN, 1.5]) {
    assert.throws(() => signDevToken(secret, { sub: 'alice', roles: [] }, ttl), /lifetime/);
  }
});
