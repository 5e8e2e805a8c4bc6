import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type GenericModerationDouble,
  genericModerationImage,
  startGenericModerationDouble,
} from '../../test/vendors/generic-moderation-double.ts';
import { allowAllModerator } from './allow-all.ts';
import { createGenericHttpModerator } from './generic-http.ts';
import { type ModerationInput, ModerationVendorError } from './moderation.ts';

let double: GenericModerationDouble;
before(async () => {
  double = await startGenericModerationDouble();
});
after(() => double?.close());

const thresholds = { nsfw: 0.8, violence: 0.9 };
const moderator = (token = double.token) =>
  createGenericHttpModerator({ url: double.url, token, thresholds });
const input = (...images: Buffer[]): ModerationInput => ({
  mediaId: '0b8e2f4a-3c1d-4e5f-8a9b-0c1d2e3f4a5b',
  kind: images.length > 1 ? 'video' : 'image',
  contentHash: 'sha256:abc',
  images: images.map((bytes) => ({ contentType: 'image/jpeg', bytes })),
  url: 'http://127.0.0.1:9/raw/x',
});

test('posts the documented JSON and allows scores under the thresholds', async () => {
  assert.deepEqual(await moderator().judge(input(genericModerationImage({ nsfw: 0.79 }))), {
    decision: 'allow',
  });
  assert.deepEqual(double.requests.at(-1), {
    mediaId: '0b8e2f4a-3c1d-4e5f-8a9b-0c1d2e3f4a5b',
    kind: 'image',
    contentHash: 'sha256:abc',
    url: 'http://127.0.0.1:9/raw/x',
    images: 1,
  });
});

test('a category at its threshold rejects; unknown categories are reported but never reject', async () => {
  const verdict = await moderator().judge(input(genericModerationImage({ nsfw: 0.8, 'new-class': 1 })));
  assert.deepEqual(verdict, { decision: 'reject', categories: [{ name: 'nsfw', score: 0.8 }] });
});

test('frames of a video are sent together', async () => {
  const verdict = await moderator().judge(
    input(genericModerationImage(), genericModerationImage({ violence: 0.95 })),
  );
  assert.deepEqual(verdict, { decision: 'reject', categories: [{ name: 'violence', score: 0.95 }] });
  assert.equal(double.requests.at(-1)?.images, 2);
});

test('a deferred judgement comes back as pending with the vendor job id', async () => {
  const verdict = await moderator().judge(input(genericModerationImage({}, { pending: true })));
  assert.equal(verdict.decision, 'pending');
  assert.match(verdict.decision === 'pending' ? verdict.vendorJobId : '', /^job-\d+$/);
});

test('a wrong token is a non-retryable vendor error', async () => {
  const error = await moderator('nope')
    .judge(input(genericModerationImage()))
    .catch((e: unknown) => e);
  assert.ok(error instanceof ModerationVendorError);
  assert.equal(error.retryable, false);
  assert.equal(error.status, 401);
});

test('429 with an HTTP-date Retry-After is retryable and says how long', async () => {
  double.fail({ status: 429, retryAfter: new Date(Date.now() + 20_000).toUTCString() });
  const error = await moderator()
    .judge(input(genericModerationImage()))
    .catch((e: unknown) => e);
  assert.ok(error instanceof ModerationVendorError);
  assert.equal(error.retryable, true);
  assert.ok(
    error.retryAfterSeconds !== undefined && error.retryAfterSeconds >= 18 && error.retryAfterSeconds <= 21,
  );
});

test('an unreadable reply is an error, never a verdict', async () => {
  double.fail({ status: 200, body: { categories: { nsfw: 'high' } } });
  await assert.rejects(moderator().judge(input(genericModerationImage())), (error: unknown) => {
    assert.ok(error instanceof ModerationVendorError);
    assert.equal(error.retryable, false);
    return true;
  });
});

test('allow-all allows and says in its name that moderation is off', async () => {
  assert.deepEqual(await allowAllModerator.judge(input(genericModerationImage({ nsfw: 1 }))), {
    decision: 'allow',
  });
  assert.match(allowAllModerator.name, /moderation off/);
});
