import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { pino } from 'pino';
import { connectDatabase, type DatabaseHandle } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { enqueueEvents, markPublished, readUnpublished } from '../../db/queries/outbox.ts';
import { DEFAULT_CACHE_DIR } from '../../deploy/kafka/artifacts.ts';
import { type KafkaBrokerHandle, startKafka } from '../../deploy/kafka/broker.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import type { Bus, DeliveredMessage } from '../../platform/bus/bus.ts';
import { createKafkaBus } from '../../platform/bus/kafka-bus.ts';
import { loadConfig } from '../../platform/config.ts';
import { freePort } from '../../test/ports.ts';
import { type RelayOptions, startRelay } from './relay.ts';

// The relay's guarantees with its batches pipelined (batch N+1 read and N-1 marked while N is on its way), on
// a real broker and PostgreSQL: every media's events arrive in the order they were committed, a broker killed
// mid-drain loses nothing, and a batch the broker refuses holds back everything after it. Batches are small so
// that a few hundred rows make many batches.

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
let dir: string;
let postgres: PostgresHandle;
let database: DatabaseHandle;
let broker: KafkaBrokerHandle;
let bus: Bus;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-relay-'));
  postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    durable: false,
  });
  database = connectDatabase(postgres.url);
  await migrateDatabase(database.db);
  broker = await startKafka({ cacheDir: DEFAULT_CACHE_DIR, dataDir: join(dir, 'kafka') });
  bus = await createKafkaBus(
    { ...loadConfig({}).kafka, brokers: broker.brokers, topicPrefix: 'relay-test.', partitions: 3 },
    logger,
  );
});

after(async () => {
  await bus?.close();
  await database?.close();
  await broker?.stop();
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

const newMedia = (count: number) => Array.from({ length: count }, () => randomUUID());

/** A relay on the test's database and broker, polling every 100 ms unless told. */
const relayWith = (options: Partial<RelayOptions>) =>
  startRelay({ connectionString: postgres.url, bus, logger, pollIntervalMs: 100, ...options });

/** Polls `done` until it holds, failing with `what` after `ms`. */
async function waitFor(done: () => boolean | Promise<boolean>, what: string, ms = 90_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Events `from`…`to - 1` of each media, committed round by round: event n of every media, then n + 1. */
async function commitEvents(topic: string, ids: string[], from: number, to: number): Promise<string[]> {
  const eventIds: string[] = [];
  for (let n = from; n < to; n++) {
    const written = await database.db.transaction((tx) =>
      enqueueEvents(
        tx,
        ids.map((mediaId) => ({ aggregateId: mediaId, topic, eventType: 'relay.test', payload: { n } })),
      ),
    );
    eventIds.push(...written);
  }
  return eventIds;
}

/** Every media's events in the order first received (a redelivered copy is skipped by id, as consumers do). */
async function receive(topic: string) {
  const seen = new Set<string>();
  const byMedia = new Map<string, number[]>();
  const subscription = await bus.subscribe(
    topic,
    'order',
    async (message: DeliveredMessage) => {
      if (seen.has(message.id)) return;
      seen.add(message.id);
      const list = byMedia.get(message.key) ?? [];
      list.push((message.payload as { n: number }).n);
      byMedia.set(message.key, list);
    },
    { concurrency: 3 },
  );
  /** Until every one of `ids` was received. */
  const received = (ids: string[], what: string) => waitFor(() => ids.every((id) => seen.has(id)), what);
  return { seen, byMedia, subscription, received };
}

/** Rows still pending, or sent and not yet stamped published. */
async function unpublishedRows(): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(
    `select (select count(*) from outbox_pending)
          + (select count(*) from outbox where published_at is null) as n`,
  );
  return Number(rows[0]?.n);
}

/** Within seconds of its last send, an idle relay has taken every row out of pending and stamped it. */
const allPublished = () =>
  waitFor(async () => (await unpublishedRows()) === 0, 'every row marked published', 10_000);

function assertCommitOrder(byMedia: Map<string, number[]>, media: number, perMedia: number) {
  assert.equal(byMedia.size, media);
  const expected = Array.from({ length: perMedia }, (_, n) => n);
  for (const [mediaId, order] of byMedia) assert.deepEqual(order, expected, `events of ${mediaId}`);
}

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

test('a relay gone idle has marked what it sent, not left it pending until its next poll', async () => {
  const consumer = await receive('idle');
  const relay = relayWith({ batchSize: 10, pollIntervalMs: 600_000 });
  try {
    const ids = await commitEvents('idle', newMedia(4), 0, 3);
    await consumer.received(ids, 'every event');
    await allPublished();
  } finally {
    await relay.stop();
    await consumer.subscription.stop();
  }
});

test('a relay kept busy stamps published_at on what it sent within its lag, not only once idle', async () => {
  const ids = await commitEvents('busy', newMedia(50), 0, 60);
  const consumer = await receive('busy');
  const relay = relayWith({ batchSize: 5, stampLagMs: 200 });
  const progress = async () => {
    const { rows } = await database.pool.query<{ pending: number; stamped: number }>(
      `select (select count(*)::int from outbox_pending where topic = $1) as pending,
              (select count(*)::int from outbox where topic = $1 and published_at is not null) as stamped`,
      ['busy'],
    );
    return rows[0] ?? { pending: 0, stamped: 0 };
  };
  try {
    let seen = await progress();
    await waitFor(async () => {
      seen = await progress();
      return seen.stamped > 0;
    }, 'a stamp');
    assert.ok(seen.pending > 0, `stamped while ${seen.pending} rows were still waiting to be sent`);
    await consumer.received(ids, 'every event');
    await allPublished();
  } finally {
    await relay.stop();
    await consumer.subscription.stop();
  }
});

test('batches a leader marked sent but did not stamp before it died are stamped by the next one', async () => {
  const ids = await commitEvents('orphaned', newMedia(6), 0, 1);
  // The leader that died: it sent these and took them out of pending, and was gone before stamping them.
  const dead = new pg.Client({ connectionString: postgres.url });
  await dead.connect();
  const rows = await readUnpublished(dead, 100, []);
  await markPublished(
    dead,
    rows.map((r) => r.seq),
  );
  await dead.end();
  const sentBy = new Date();
  const { rows: before } = await database.pool.query(
    'select from outbox where id = any($1) and published_at is null',
    [ids],
  );
  assert.equal(before.length, ids.length, 'not stamped yet');
  const relay = relayWith({ batchSize: 10 });
  try {
    await allPublished();
    const { rows: stamped } = await database.pool.query<{ published_at: Date }>(
      'select published_at from outbox where id = any($1)',
      [ids],
    );
    for (const row of stamped)
      assert.ok(row.published_at <= sentBy, 'stamped with the time its batch was marked');
  } finally {
    await relay.stop();
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
