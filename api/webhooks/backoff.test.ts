// The retry schedule: Svix-like caps, full jitter inside them, and a span of at least 24 hours.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retriesExhausted, retryCapMs, retryDelayMs, retrySpanInBase } from './backoff.ts';

const base = 5000;
const hour = 3600_000;

test('the caps run 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h for every further attempt', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 20].map((n) => retryCapMs(n, base)),
    [5000, 5 * 60_000, 30 * 60_000, 2 * hour, 5 * hour, 10 * hour, 10 * hour, 10 * hour],
  );
});

test('each delay is drawn in (0, cap]: never zero, never past the cap', () => {
  for (const n of [1, 3, 6]) {
    const cap = retryCapMs(n, base);
    assert.equal(retryDelayMs(n, base, 0), cap);
    assert.ok(retryDelayMs(n, base, 0.999999) >= 1);
    for (let i = 0; i < 200; i++) {
      const d = retryDelayMs(n, base);
      assert.ok(d > 0 && d <= cap, `${d} within (0, ${cap}]`);
    }
  }
});

test('a delivery gives up only after 24 h at the default base, whatever the jitter drew; the base scales it', () => {
  assert.equal(retrySpanInBase * base, 24 * hour);
  const created = new Date('2026-01-01T00:00:00Z');
  assert.equal(retriesExhausted(created, new Date(created.getTime() + 24 * hour - 1), base), false);
  assert.equal(retriesExhausted(created, new Date(created.getTime() + 24 * hour), base), true);
  assert.equal(retriesExhausted(created, new Date(created.getTime() + 1728), 0.1), true);
});
