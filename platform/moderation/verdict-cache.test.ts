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
import { type ModerationInput, ModerationUnavailableError } from './moderation.ts';
import { resilient } from './resilient.ts';
import { createSightengineModerator } from './sightengine.ts';
import { cachedModerator, InMemoryVerdictCache, type VerdictCache } from './verdict-cache.ts';

let double: SightengineDouble;
before(async () => {
  double = await startSightengineDouble();
});
after(() => double?.close());

const sightengine = () =>
  createSightengineModerator({
    apiUser: double.apiUser,
    apiSecret: double.apiSecret,
    baseUrl: double.baseUrl,
  });
const input = (mediaId: string, contentHash: string, bytes = sightengineImage()): ModerationInput => ({
  mediaId,
  kind: 'image',
  contentHash,
  images: [{ contentType: 'image/jpeg', bytes }],
});

test('the same content is judged once, whichever media it arrives as', async () => {
  const moderator = cachedModerator(sightengine(), new InMemoryVerdictCache());
  const before = double.calls;
  const bytes = sightengineImage({ 'nudity.sexual_display': 0.9 });
  const first = await moderator.judge(input('media-1', 'content-a', bytes));
  const second = await moderator.judge(input('media-2', 'content-a', bytes));
  assert.equal(first.decision, 'reject');
  assert.deepEqual(second, first);
  assert.equal(double.calls - before, 1);
  await moderator.judge(input('media-3', 'content-b'));
  assert.equal(double.calls - before, 2);
});

test('completing again after an outage calls the vendor once more, then never again', async () => {
  const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100 });
  const moderator = cachedModerator(
    resilient(sightengine(), { retries: 0, timeoutMs: 1_000, breaker }),
    new InMemoryVerdictCache(),
  );
  const before = double.calls;
  double.fail({ status: 503 });
  await assert.rejects(moderator.judge(input('media-4', 'content-c')), ModerationUnavailableError);
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(await moderator.judge(input('media-4', 'content-c')), { decision: 'allow' });
  assert.deepEqual(await moderator.judge(input('media-4', 'content-c')), { decision: 'allow' });
  assert.equal(double.calls - before, 2);
});

test('a completion retried while the first is still judging shares its vendor call', async () => {
  const moderator = cachedModerator(sightengine(), new InMemoryVerdictCache());
  const before = double.calls;
  double.fail({ delayMs: 150 });
  const [a, b] = await Promise.all([
    moderator.judge(input('media-5', 'content-d')),
    moderator.judge(input('media-5', 'content-d')),
  ]);
  assert.deepEqual(a, b);
  assert.equal(double.calls - before, 1);
});

test('pending verdicts are not cached: the webhook settles them', async () => {
  const generic = await startGenericModerationDouble();
  try {
    const cache = new InMemoryVerdictCache();
    const moderator = cachedModerator(
      createGenericHttpModerator({ url: generic.url, token: generic.token, thresholds: {} }),
      cache,
    );
    const bytes = genericModerationImage({}, { pending: true });
    const first = await moderator.judge(input('media-6', 'content-e', bytes));
    assert.equal(first.decision, 'pending');
    assert.equal(await cache.get('content-e'), undefined);
    await moderator.judge(input('media-7', 'content-e', bytes));
    assert.equal(generic.calls, 2);
  } finally {
    await generic.close();
  }
});

test('a failing cache is reported and moderation goes on', async () => {
  const broken: VerdictCache = {
    get: async () => {
      throw new Error('cache down');
    },
    put: async () => {
      throw new Error('cache still down');
    },
  };
  const reported: string[] = [];
  const moderator = cachedModerator(sightengine(), broken, {
    onCacheError: (e) => reported.push((e as Error).message),
  });
  assert.deepEqual(await moderator.judge(input('media-8', 'content-f')), { decision: 'allow' });
  assert.deepEqual(reported, ['cache down', 'cache still down']);
});

test('the in-memory cache forgets the least recently used entry first', async () => {
  const cache = new InMemoryVerdictCache(2);
  await cache.put('a', { decision: 'allow' });
  await cache.put('b', { decision: 'allow' });
  await cache.get('a');
  await cache.put('c', { decision: 'reject', categories: [{ name: 'gore', score: 1 }] });
  assert.deepEqual(await cache.get('a'), { decision: 'allow' });
  assert.equal(await cache.get('b'), undefined);
  assert.equal((await cache.get('c'))?.decision, 'reject');
});
