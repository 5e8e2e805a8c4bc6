import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  type SightengineDouble,
  sightengineImage,
  startSightengineDouble,
} from '../../test/vendors/sightengine-double.ts';
import { type ModerationInput, ModerationVendorError } from './moderation.ts';
import { createSightengineModerator, sightengineScores } from './sightengine.ts';

let double: SightengineDouble;
before(async () => {
  double = await startSightengineDouble();
});
after(() => double?.close());

const moderator = (overrides: Partial<Parameters<typeof createSightengineModerator>[0]> = {}) =>
  createSightengineModerator({
    apiUser: double.apiUser,
    apiSecret: double.apiSecret,
    baseUrl: double.baseUrl,
    ...overrides,
  });

const imageInput = (bytes: Buffer, extra: Partial<ModerationInput> = {}): ModerationInput => ({
  mediaId: '6f1c1f5e-8c8e-4c3a-9d7e-1f2a3b4c5d6e',
  kind: 'image',
  contentHash: `hash-${Math.random()}`,
  images: [{ contentType: 'image/jpeg', bytes }],
  ...extra,
});

test('a clean image is allowed; the upload is multipart with the models and credentials', async () => {
  const before = double.calls;
  assert.deepEqual(await moderator().judge(imageInput(sightengineImage())), { decision: 'allow' });
  assert.equal(double.calls, before + 1);
  const sent = double.requests.at(-1);
  assert.deepEqual(sent?.models, ['nudity-2.1', 'weapon', 'gore-2.0']);
  assert.equal(sent?.mediaType, 'image/jpeg');
  assert.equal(sent?.mediaBytes, sightengineImage().length);
});

test('scores at or above a threshold reject, named by normalised category', async () => {
  const verdict = await moderator().judge(
    imageInput(
      sightengineImage({ 'nudity.sexual_activity': 0.5, 'weapon.classes.firearm': 0.93, 'gore.prob': 0.2 }),
    ),
  );
  assert.deepEqual(verdict, {
    decision: 'reject',
    categories: [
      { name: 'weapon.firearm', score: 0.93 },
      { name: 'nudity.sexual_activity', score: 0.5 },
    ],
  });
});

test('just under every threshold is allowed, and classes without a threshold never reject', async () => {
  const verdict = await moderator().judge(
    imageInput(
      sightengineImage({ 'nudity.sexual_activity': 0.49, 'gore.prob': 0.59, 'weapon.classes.knife': 0.99 }),
    ),
  );
  assert.deepEqual(verdict, { decision: 'allow' });
});

test("thresholds are the deployment's: gore classes and knives can reject when configured", async () => {
  const strict = moderator({ thresholds: { gore: 0.3, 'gore.very_bloody': 0.8, 'weapon.knife': 0.6 } });
  const verdict = await strict.judge(
    imageInput(sightengineImage({ 'gore.classes.very_bloody': 0.85, 'weapon.classes.knife': 0.61 })),
  );
  assert.equal(verdict.decision, 'reject');
  assert.deepEqual(verdict.decision === 'reject' && verdict.categories.map((c) => c.name), [
    'gore.very_bloody',
    'weapon.knife',
  ]);
});

test('a video is judged by its worst frame, one call per frame', async () => {
  const before = double.calls;
  const frames = [
    sightengineImage(),
    sightengineImage({ 'gore.prob': 0.9 }),
    sightengineImage({ 'gore.prob': 0.7 }),
  ];
  const verdict = await moderator().judge({
    ...imageInput(Buffer.alloc(0)),
    kind: 'video',
    images: frames.map((bytes) => ({ contentType: 'image/jpeg', bytes })),
  });
  assert.deepEqual(verdict, { decision: 'reject', categories: [{ name: 'gore', score: 0.9 }] });
  assert.equal(double.calls, before + 3);
});

test('an image without bytes is sent by URL for Sightengine to fetch', async () => {
  const url = 'http://127.0.0.1:9/raw/abc?X-Amz-Signature=x';
  assert.deepEqual(await moderator().judge(imageInput(Buffer.alloc(0), { images: [], url })), {
    decision: 'allow',
  });
  assert.equal(double.requests.at(-1)?.url, url);
});

test('audio has nothing for an image model to judge and costs no call', async () => {
  const before = double.calls;
  const verdict = await moderator().judge({
    ...imageInput(Buffer.alloc(0)),
    kind: 'audio',
    images: [],
    url: 'http://x/y',
  });
  assert.deepEqual(verdict, { decision: 'allow' });
  assert.equal(double.calls, before);
});

test("wrong credentials are a non-retryable vendor error carrying Sightengine's message", async () => {
  const error = await moderator({ apiSecret: 'wrong' })
    .judge(imageInput(sightengineImage()))
    .catch((e: unknown) => e);
  assert.ok(error instanceof ModerationVendorError);
  assert.equal(error.retryable, false);
  assert.equal(error.status, 401);
  assert.match(error.message, /Incorrect API user or API secret/);
});

test('a 503 is a retryable vendor error with its Retry-After', async () => {
  double.fail({ status: 503, retryAfter: '7' });
  const error = await moderator()
    .judge(imageInput(sightengineImage()))
    .catch((e: unknown) => e);
  assert.ok(error instanceof ModerationVendorError);
  assert.equal(error.retryable, true);
  assert.equal(error.retryAfterSeconds, 7);
  assert.match(error.message, /api_error/);
});

test('a failure reported inside a 200 is not mistaken for a verdict', async () => {
  double.fail({
    status: 200,
    body: { status: 'failure', error: { type: 'media_error', code: 21, message: 'bad image' } },
  });
  const error = await moderator()
    .judge(imageInput(sightengineImage()))
    .catch((e: unknown) => e);
  assert.ok(error instanceof ModerationVendorError);
  assert.equal(error.retryable, false);
  assert.match(error.message, /media_error: bad image/);
});

test('normalises a full reply to dotted names', () => {
  const scores = sightengineScores({
    status: 'success',
    request: { id: 'req_1', timestamp: 1, operations: 3 },
    nudity: {
      sexual_activity: 0.1,
      suggestive_classes: { lingerie: 0.2, cleavage_categories: { revealing: 0.3 } },
      none: 0.9,
    },
    weapon: { classes: { firearm: 0.4 }, firearm_type: { animated: 0.5 } },
    gore: { prob: 0.6, classes: { corpse: 0.7 }, type: { real: 0.8 } },
    media: { id: 'med_1', uri: null },
  });
  assert.deepEqual(scores, {
    'nudity.sexual_activity': 0.1,
    'nudity.lingerie': 0.2,
    'nudity.cleavage_categories.revealing': 0.3,
    'nudity.none': 0.9,
    'weapon.firearm': 0.4,
    'weapon.firearm_type.animated': 0.5,
    gore: 0.6,
    'gore.corpse': 0.7,
    'gore.type.real': 0.8,
  });
});
