import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { enqueueEvents } from '../../db/queries/outbox.ts';
import {
  allPublished,
  assertCommitOrder,
  broker,
  commitEvents,
  database,
  newMedia,
  receive,
  relayWith,
  useRelayHarness,
  waitFor,
} from './relay-harness.ts';

// The relay's guarantees with its batches pipelined (batch N+1 read and N-1 marked while N is on its way), on
// a real broker and PostgreSQL: every media's events arrive in the order they were committed, a broker killed
// mid-drain loses nothing, and a batch the broker refuses holds back everything after it. Batches are small so
// that a few hundred rows make many batches.

useRelayHarness();

test('pipelined batches keep every media’s events in commit order, each marked published once sent', async () => {
  const [media, perMedia] = [30, 20];
  const ids = await commitEvents('order', newMedia(media), 0, perMedia);
  const consumer = await receive('order');
  const relay = relayWith({ batchSize: 25 });
  try {
    await consumer.received(ids, 'every event');
    assertCommitOrder(consumer.byMedia, media, perMedia);
    await allPublished();
  } finally {
    await relay.stop();
    await consumer.subscription.stop();
  }
});
test('the broker killed mid-drain and started again: nothing lost, commit order kept', async (t) => {
  const [media, perMedia] = [50, 30];
  const mediaIds = newMedia(media);
  const ids = await commitEvents('restart', mediaIds, 0, 20);
  const consumer = await receive('restart');
  const relay = relayWith({ batchSize: 50 });
  try {
    await waitFor(() => consumer.seen.size >= 100, 'the drain to begin');
    await broker.kill();
    t.diagnostic(`broker killed after ${consumer.seen.size} of ${ids.length} events were received`);
    // Committed while the broker is down: these can only go out after it returns.
    ids.push(...(await commitEvents('restart', mediaIds, 20, perMedia)));
    await sleep(2000);
    await broker.restart();
    await consumer.received(ids, 'every event after the restart');
    assertCommitOrder(consumer.byMedia, media, perMedia);
    await allPublished();
  } finally {
    await relay.stop();
    await consumer.subscription.stop();
  }
});
test('an event whose transaction took its seq first but commits last still goes out', async () => {
  const consumer = await receive('late');
  const relay = relayWith({ batchSize: 10 });
  let commit = () => {};
  const held = new Promise<void>((resolve) => {
    commit = resolve;
  });
  let late: string[] = [];
  let wrote = () => {};
  const written = new Promise<void>((resolve) => {
    wrote = resolve;
  });
  try {
    const slow = database.db.transaction(async (tx) => {
      late = await enqueueEvents(tx, [
        { aggregateId: randomUUID(), topic: 'late', eventType: 'relay.test', payload: { n: 0 } },
      ]);
      wrote();
      await held;
    });
    await written;
    const early = await commitEvents('late', newMedia(3), 0, 1);
    await consumer.received(early, 'the later seqs');
    assert.equal(consumer.seen.size, 3, 'the uncommitted event is not sent');
    commit();
    await slow;
    const { rows } = await database.pool.query<{ id: string }>(
      'select id from outbox where id = any($1::uuid[]) order by seq limit 1',
      [[...late, ...early]],
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      late,
      'the event committed last holds the lowest seq',
    );
    await consumer.received(late, 'the event committed last');
  } finally {
    commit();
    await relay.stop();
    await consumer.subscription.stop();
  }
});
/** The broker's limit on one partition's record batch in `topic` (its real default is about 1 MB). */
async function limitBatchBytes(topic: string, bytes: number): Promise<void> {
  const admin = new kafkajs.Kafka({ brokers: broker.brokers, logLevel: kafkajs.logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topic,
          configEntries: [{ name: 'max.message.bytes', value: String(bytes) }],
        },
      ],
    });
  } finally {
    await admin.disconnect();
  }
}

test('a send the broker refuses leaves its rows unpublished, nothing after them sent, and goes out once it can', async () => {
  const [media, perMedia, refusedRound] = [5, 10, 4];
  const mediaIds = newMedia(media);
  const consumer = await receive('refused');
  // One round of events per batch; the first media's event of round 4 is larger than the topic will take.
  const ids: string[] = [];
  for (let n = 0; n < perMedia; n++) {
    const written = await database.db.transaction((tx) =>
      enqueueEvents(
        tx,
        mediaIds.map((mediaId, i) => ({
          aggregateId: mediaId,
          topic: 'refused',
          eventType: 'relay.test',
          payload: i === 0 && n === refusedRound ? { n, pad: 'x'.repeat(8000) } : { n },
        })),
      ),
    );
    ids.push(...written);
  }
  await limitBatchBytes('relay-test.refused', 4000);
  const relay = relayWith({ batchSize: media });
  try {
    const refusedId = ids[refusedRound * media];
    const attemptsOf = async () => {
      const { rows } = await database.pool.query<{ attempts: number; last_error: string | null }>(
        'select attempts, last_error from outbox where id = $1',
        [refusedId],
      );
      return rows[0];
    };
    await waitFor(
      async () => ((await attemptsOf())?.attempts ?? 0) >= 2,
      'the refused batch retried',
      60_000,
    );
    assert.match((await attemptsOf())?.last_error ?? '', /large/i, 'the row keeps why it was refused');
    const { rows } = await database.pool.query<{ id: string }>(
      `select o.id from outbox_pending p join outbox o on o.id = p.id
        where o.topic = $1 and o.published_at is null order by p.seq`,
      ['refused'],
    );
    assert.deepEqual(
      rows.map((r) => r.id),
      ids.slice(refusedRound * media),
      'the refused batch and everything after it stay unpublished',
    );
    // Partitions the refused request did not concern may have appended their part of it; nothing later went.
    assert.deepEqual(consumer.byMedia.get(mediaIds[0] ?? ''), [0, 1, 2, 3]);
    for (const order of consumer.byMedia.values()) {
      assert.deepEqual(
        order,
        Array.from({ length: order.length }, (_, n) => n),
      );
      assert.ok(order.length <= refusedRound + 1, 'no event after the refused round was sent');
    }

    await limitBatchBytes('relay-test.refused', 1_048_588);
    await consumer.received(ids, 'every event once the broker takes it');
    assertCommitOrder(consumer.byMedia, media, perMedia);
    await allPublished();
  } finally {
    await relay.stop();
    await consumer.subscription.stop();
  }
});
