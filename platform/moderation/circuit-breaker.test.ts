import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CircuitBreaker } from './circuit-breaker.ts';

const clock = () => {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

test('opens only after N consecutive failures; a success in between resets the count', () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1_000, now: clock().now });
  breaker.failed();
  breaker.failed();
  breaker.succeeded();
  breaker.failed();
  breaker.failed();
  assert.equal(breaker.state, 'closed');
  breaker.failed();
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.tryAcquire(), false);
});

test('while open it reports the rest of the cool-down', () => {
  const time = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 10_000, now: time.now });
  assert.equal(breaker.retryAfterMs(), 0);
  breaker.failed();
  time.advance(4_000);
  assert.equal(breaker.retryAfterMs(), 6_000);
});

test('after the cool-down exactly one trial goes through', () => {
  const time = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 1_000, now: time.now });
  breaker.failed();
  time.advance(999);
  assert.equal(breaker.tryAcquire(), false);
  time.advance(1);
  assert.equal(breaker.tryAcquire(), true);
  assert.equal(breaker.state, 'half-open');
  assert.equal(breaker.tryAcquire(), false, 'a second caller waits for the trial');
  assert.ok(breaker.retryAfterMs() > 0);
  breaker.succeeded();
  assert.equal(breaker.state, 'closed');
  assert.equal(breaker.tryAcquire(), true);
});

test('a failed trial opens the circuit for a full cool-down from now', () => {
  const time = clock();
  const breaker = new CircuitBreaker({ failureThreshold: 5, cooldownMs: 1_000, now: time.now });
  for (let i = 0; i < 5; i++) breaker.failed();
  time.advance(1_500);
  assert.equal(breaker.tryAcquire(), true);
  breaker.failed();
  assert.equal(breaker.state, 'open');
  assert.equal(breaker.retryAfterMs(), 1_000);
});
