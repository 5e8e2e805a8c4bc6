import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  genericModerationImage,
  startGenericModerationDouble,
} from '../../test/vendors/generic-moderation-double.ts';
import {
  type SightengineDouble,
  sightengineImage,
  startSightengineDouble,
} from '../../test/vendors/sightengine-double.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { createGenericHttpModerator } from './generic-http.ts';
import { type ModerationInput, ModerationUnavailableError, ModerationVendorError } from './moderation.ts';
import { fullJitterDelay, type ResilienceOptions, resilient } from './resilient.ts';
import { createSightengineModerator } from './sightengine.ts';

let double: SightengineDouble;
before(async () => {
  double = await startSightengineDouble();
});
after(() => double?.close());

const sightengine = (overrides: { apiSecret?: string } = {}) =>
  createSightengineModerator({
    apiUser: double.apiUser,
    apiSecret: double.apiSecret,
    baseUrl: double.baseUrl,
    ...overrides,
  });
const fast: ResilienceOptions = { timeoutMs: 1_000, retries: 2, baseDelayMs: 20, maxDelayMs: 200 };
const input = (bytes = sightengineImage()): ModerationInput => ({
  mediaId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
  kind: 'image',
  contentHash: 'h',
  images: [{ contentType: 'image/jpeg', bytes }],
});
const callsDuring = async (work: () => Promise<unknown>) => {
  const before = double.calls;
  const result = await work().catch((error: unknown) => error);
  return { result, calls: double.calls - before };
};

test('one 503 is retried after a jittered wait and the verdict comes through', async () => {
  double.fail({ status: 503 });
  const { result, calls } = await callsDuring(() => resilient(sightengine(), fast).judge(input()));
  assert.deepEqual(result, { decision: 'allow' });
  assert.equal(calls, 2);
});

test('a dropped connection is retried like an outage', async () => {
  double.fail({ drop: true });
  const { result, calls } = await callsDuring(() => resilient(sightengine(), fast).judge(input()));
  assert.deepEqual(result, { decision: 'allow' });
  assert.equal(calls, 2);
});

test('a short Retry-After on 429 is waited out, then the call succeeds', async () => {
  double.fail({ status: 429, retryAfter: '1' });
  const started = Date.now();
  const { result, calls } = await callsDuring(() =>
    resilient(sightengine(), { ...fast, maxDelayMs: 1_500 }).judge(input()),
  );
  assert.deepEqual(result, { decision: 'allow' });
  assert.equal(calls, 2);
  assert.ok(Date.now() - started >= 1_000);
});

test('a Retry-After longer than the gate can wait goes to the client at once', async () => {
  double.fail({ status: 429, retryAfter: '30' });
  const { result, calls } = await callsDuring(() => resilient(sightengine(), fast).judge(input()));
  assert.ok(result instanceof ModerationUnavailableError, String(result));
  assert.equal(result.retryAfterSeconds, 30);
  assert.equal(calls, 1);
});

test('persistent 5xx gives up after the retries with ModerationUnavailableError', async () => {
  double.fail({ status: 500 }, { status: 502 }, { status: 503 });
  const { result, calls } = await callsDuring(() =>
    resilient(sightengine(), { ...fast, retryAfterSeconds: 4 }).judge(input()),
  );
  assert.ok(result instanceof ModerationUnavailableError, String(result));
  assert.equal(result.retryAfterSeconds, 4);
  assert.ok(result.cause instanceof ModerationVendorError);
  assert.equal(calls, 3);
});

test('the per-call timeout is honoured: a hung vendor costs one timeout per attempt', async () => {
  double.fail({ hang: true });
  const started = Date.now();
  const { result, calls } = await callsDuring(() =>
    resilient(sightengine(), { ...fast, timeoutMs: 300, retries: 0 }).judge(input()),
  );
  const elapsed = Date.now() - started;
  assert.ok(result instanceof ModerationUnavailableError, String(result));
  assert.match(result.message, /no verdict within 300 ms/);
  assert.ok(elapsed >= 290 && elapsed < 1_000, `took ${elapsed} ms`);
  assert.equal(calls, 1);
});

test('a slow first answer is abandoned and the retry answers', async () => {
  double.fail({ delayMs: 2_000 });
  const { result, calls } = await callsDuring(() =>
    resilient(sightengine(), { ...fast, timeoutMs: 300 }).judge(input()),
  );
  assert.deepEqual(result, { decision: 'allow' });
  assert.equal(calls, 2);
});

test('errors that retrying cannot fix are not retried and do not trip the breaker', async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1 });
  const { result, calls } = await callsDuring(() =>
    resilient(sightengine({ apiSecret: 'wrong' }), { ...fast, breaker }).judge(input()),
  );
  assert.ok(result instanceof ModerationVendorError && !result.retryable, String(result));
  assert.equal(calls, 1);
  assert.equal(breaker.state, 'closed');
});

test('the breaker opens after N failures and then fails fast without calling the vendor', async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 60_000 });
  const guarded = resilient(sightengine(), { ...fast, retries: 0, breaker });
  double.fail({ status: 503 }, { status: 503 }, { status: 503 });
  for (let i = 0; i < 3; i++) await assert.rejects(guarded.judge(input()), ModerationUnavailableError);
  assert.equal(breaker.state, 'open');

  const started = Date.now();
  const { result, calls } = await callsDuring(() => guarded.judge(input()));
  assert.ok(result instanceof ModerationUnavailableError, String(result));
  assert.equal(calls, 0);
  assert.ok(Date.now() - started < 50);
  assert.ok(result.retryAfterSeconds > 55 && result.retryAfterSeconds <= 60, `${result.retryAfterSeconds}`);
});

test('retries stop as soon as the breaker opens', async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 10_000 });
  // Had the retries gone on, the third call would have succeeded.
  double.fail({ status: 503 }, { status: 503 });
  const { result, calls } = await callsDuring(() =>
    resilient(sightengine(), { ...fast, retries: 5, breaker }).judge(input()),
  );
  assert.ok(result instanceof ModerationUnavailableError);
  assert.equal(calls, 2);
  assert.equal(result.retryAfterSeconds, 10);
});

test('half-open: after the cool-down one trial call closes the circuit again', async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 200 });
  const guarded = resilient(sightengine(), { ...fast, retries: 0, breaker });
  double.fail({ status: 503 });
  await assert.rejects(guarded.judge(input()), ModerationUnavailableError);
  assert.equal((await callsDuring(() => guarded.judge(input()))).calls, 0);

  await new Promise((resolve) => setTimeout(resolve, 220));
  const { result, calls } = await callsDuring(() => guarded.judge(input()));
  assert.deepEqual(result, { decision: 'allow' });
  assert.equal(calls, 1);
  assert.equal(breaker.state, 'closed');
});

test('half-open: a failed trial opens the circuit for another cool-down', async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 200 });
  const guarded = resilient(sightengine(), { ...fast, retries: 3, breaker });
  double.fail({ status: 503 });
  await assert.rejects(guarded.judge(input()), ModerationUnavailableError);
  await new Promise((resolve) => setTimeout(resolve, 220));
  double.fail({ status: 503 });
  const { result, calls } = await callsDuring(() => guarded.judge(input()));
  assert.ok(result instanceof ModerationUnavailableError);
  assert.equal(calls, 1, 'the trial is a single call, not a round of retries');
  assert.equal(breaker.state, 'open');
  assert.equal((await callsDuring(() => guarded.judge(input()))).calls, 0);
});

test('pending verdicts pass through the wrapper untouched', async () => {
  const generic = await startGenericModerationDouble();
  try {
    const guarded = resilient(
      createGenericHttpModerator({ url: generic.url, token: generic.token, thresholds: {} }),
      fast,
    );
    const verdict = await guarded.judge(input(genericModerationImage({}, { pending: true })));
    assert.deepEqual(verdict, { decision: 'pending', vendorJobId: 'job-1' });
    assert.equal(guarded.name, `http moderation at ${new URL(generic.url).host}`);
  } finally {
    await generic.close();
  }
});

test('full jitter waits anywhere from zero up to the capped exponential', () => {
  assert.equal(
    fullJitterDelay(0, 100, 1_000, () => 0),
    0,
  );
  assert.equal(
    fullJitterDelay(0, 100, 1_000, () => 0.999),
    99,
  );
  assert.equal(
    fullJitterDelay(3, 100, 1_000, () => 0.5),
    400,
  );
  assert.equal(
    fullJitterDelay(10, 100, 1_000, () => 0.999),
    999,
  );
});
