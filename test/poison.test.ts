import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { completeUpload, mediagate, settled, storeUpload, traceMedia } from './media-flow.ts';

// Poison messages on the real broker: a request no attempt can handle goes to the dead-letter queue after its
// five attempts, without holding up the requests behind it; an operator sees it and redrives it.
let platform: Platform;
let producer: Producer;
const requestTopic = 'optimize.request';

interface DeadLetter {
  id: string;
  group: string;
  eventId: string;
  key: string;
  headers: Record<string, string>;
  error: { message: string };
  attempts: number;
  failedAt: string;
}

before(async () => {
  // 0.5 + 1 + 2 + 4 s of backoff: a dead letter takes about 7.5 s, far longer than a small photo's processing.
  platform = await startPlatform({ bus: 'kafka', env: { BUS_RETRY_BASE_MS: '500' } });
  const brokers = (platform.env.KAFKA_BROKERS ?? '').split(',');
  producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
});
after(async () => {
  await producer?.disconnect();
  await platform?.stop();
});

const alice = () => apiClient(platform, platform.token('alice'));
const ops = () => apiClient(platform, platform.token('ops', { admin: true }));

/** Writes a request straight to the topic, as a buggy or hostile producer would, keyed like a real one. */
async function publishRaw(key: string, payload: unknown): Promise<string> {
  const eventId = randomUUID();
  await producer.send({
    topic: `${platform.env.KAFKA_TOPIC_PREFIX}${requestTopic}`,
    messages: [
      {
        key,
        value: JSON.stringify(payload),
        headers: { 'event-id': eventId, 'event-type': 'media.optimize.request', 'schema-version': '1' },
      },
    ],
  });
  return eventId;
}

async function deadLetterOf(eventId: string, except?: string): Promise<DeadLetter> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const list = await ops().get<{ items: DeadLetter[] }>(`/v1/ops/dlq?topic=${requestTopic}`);
    assert.equal(
      list.status,
      200,
      `${JSON.stringify(list.body)}\n${platform.roles.api.output.slice(-10).join('\n')}`,
    );
    const letter = list.body.items.find((l) => l.eventId === eventId && l.id !== except);
    if (letter) return letter;
    await sleep(500);
  }
  throw new Error(`event ${eventId} was not dead-lettered`);
}

describe('poison messages', () => {
  let mediaId: string;
  let broken: { eventId: string; letter: DeadLetter };

  test('a request that breaks the contract is dead-lettered after 5 attempts; the upload behind it is not held up', async () => {
    const upload = await storeUpload(alice(), await makeJpegWithGps(640, 480, { lat: 1, lon: 2 }));
    mediaId = upload.session.mediaId;
    // Same key as the upload's request, so the same partition, ahead of it.
    const eventId = await publishRaw(mediaId, { mediaId, kind: 'image' });
    await completeUpload(alice(), upload);
    const media = await settled(platform, alice(), mediaId);
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));

    const letter = await deadLetterOf(eventId);
    assert.equal(letter.attempts, 5);
    assert.equal(letter.group, 'worker');
    assert.equal(letter.key, mediaId);
    assert.match(letter.error.message, /breaks the contract/);
    const readyAt = (await traceMedia(platform, mediaId)).events.find((e) => e.toStatus === 'ready')?.at;
    assert.ok(
      Date.parse(readyAt ?? '') < Date.parse(letter.failedAt),
      'the upload queued behind the poison was ready before the poison was given up on',
    );
    broken = { eventId, letter };
  });

  test('a request for a missing object is dead-lettered; once the object exists, a redrive gets it handled', async () => {
    const objectKey = `raw/${mediaId}/${randomUUID()}`;
    const eventId = await publishRaw(mediaId, {
      mediaId,
      bucket: platform.env.S3_BUCKET,
      objectKey,
      kind: 'image',
      contentType: 'image/jpeg',
      canonicalUrl: `${platform.edgeUrl}/m/${objectKey}`,
      probe: {},
    });
    const letter = await deadLetterOf(eventId);
    assert.equal(letter.attempts, 5);

    const photo = await makeJpegWithGps(640, 480, { lat: 3, lon: 4 });
    await platform.storage.put(objectKey, photo, 'image/jpeg', photo.length);
    const redrive = await ops().post('/v1/ops/dlq/redrive', { topic: requestTopic, ids: [letter.id] });
    assert.deepEqual(redrive.body, { redriven: 1, requeuedMedia: 0 });

    // The worker builds the redriven request's ladder and the media swaps to it.
    const rebuilt = async () => {
      const keys = (await traceMedia(platform, mediaId)).variants.map((v) => v.objectKey);
      return keys.length > 0 && keys.every((k) => k.includes(`/${eventId}/`));
    };
    const deadline = Date.now() + 60_000;
    while (!(await rebuilt())) {
      assert.ok(Date.now() < deadline, 'the redriven request was not handled');
      await sleep(250);
    }
    const list = await ops().get<{ items: DeadLetter[] }>(`/v1/ops/dlq?topic=${requestTopic}`);
    assert.ok(!list.body.items.some((l) => l.eventId === eventId), 'no longer pending');
  });

  test('a redriven request that still breaks the contract returns to the DLQ, naming the dead letter it came from', async () => {
    const listed = await mediagate<{ items: DeadLetter[] }>(platform, [
      'dlq',
      'list',
      '--topic',
      requestTopic,
    ]);
    assert.ok(
      listed.items.some((l) => l.id === broken.letter.id),
      'the CLI lists what the route lists',
    );

    const redrive = await ops().post('/v1/ops/dlq/redrive', {
      topic: requestTopic,
      group: 'worker',
      ids: [broken.letter.id],
    });
    assert.deepEqual(redrive.body, { redriven: 1, requeuedMedia: 0 });
    const again = await deadLetterOf(broken.eventId, broken.letter.id);
    assert.equal(again.attempts, 5);
    assert.equal(again.headers['redrive-of'], broken.letter.id);

    const twice = await ops().post<{ code: string }>('/v1/ops/dlq/redrive', {
      topic: requestTopic,
      ids: [broken.letter.id],
    });
    assert.equal(twice.status, 404);
    assert.equal(twice.body.code, 'not_found');
    assert.deepEqual(
      await mediagate(platform, ['dlq', 'redrive', '--topic', requestTopic, '--ids', again.id]),
      { redriven: 1, requeuedMedia: 0 },
    );
  });

  test('only admins see or redrive dead letters', async () => {
    const list = await alice().get<{ code: string }>(`/v1/ops/dlq?topic=${requestTopic}`);
    assert.equal(list.status, 403);
    assert.equal(list.body.code, 'admin_required');
    const redrive = await alice().post<{ code: string }>('/v1/ops/dlq/redrive', { topic: requestTopic });
    assert.equal(redrive.status, 403);
    const unknown = await ops().get<{ code: string }>('/v1/ops/dlq?topic=no.such.topic');
    assert.equal(unknown.status, 400);
  });
});
