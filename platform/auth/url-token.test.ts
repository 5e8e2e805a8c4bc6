import assert from 'node:assert/strict';
import { test } from 'node:test';
import { signUrlToken, verifyUrlToken, viewTokenExpiry } from './url-token.ts';

test('view URLs minted within a tenth of the lifetime are the same URL, and none outlives the lifetime', () => {
  const ttl = 3600;
  const start = Date.UTC(2026, 11, 4, 10, 0, 0);
  const seen = new Set<number>();
  for (let ms = 0; ms < 2 * ttl * 1000; ms += 7_001) {
    const now = start + ms;
    const exp = viewTokenExpiry(ttl, now);
    const left = exp - now / 1000;
    assert.ok(left <= ttl && left > ttl - ttl / 10 - 1, `a URL minted at +${ms} ms lives ${left} s`);
    seen.add(exp);
  }
  // Two hours of reads every 7 s hand out about 20 distinct expiries, not one per read.
  assert.ok(seen.size <= 21, `${seen.size} distinct expiries`);
  const a = signUrlToken('s', { key: 'k', sub: 'u', exp: viewTokenExpiry(ttl, start) });
  const b = signUrlToken('s', { key: 'k', sub: 'u', exp: viewTokenExpiry(ttl, start + 1_500) });
  assert.equal(a, b);
});

test('a one-second lifetime is still one second', () => {
  const now = Date.UTC(2026, 11, 4, 10, 0, 0, 400);
  assert.equal(viewTokenExpiry(1, now), Math.floor(now / 1000) + 1);
});

test('a token is refused once expired, for another key, or altered', () => {
  const token = signUrlToken('secret', { key: 'a/b', sub: 'u', exp: 100 });
  assert.equal(verifyUrlToken('secret', token, 'a/b', 100).ok, true);
  assert.deepEqual(verifyUrlToken('secret', token, 'a/b', 101), { ok: false, reason: 'expired' });
  assert.deepEqual(verifyUrlToken('secret', token, 'a/c', 99), { ok: false, reason: 'wrong_key' });
  assert.deepEqual(verifyUrlToken('other', token, 'a/b', 99), { ok: false, reason: 'malformed' });
});
