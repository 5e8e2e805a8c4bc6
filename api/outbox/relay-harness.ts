import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { connectDatabase, type DatabaseHandle } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { enqueueEvents } from '../../db/queries/outbox.ts';
import { DEFAULT_CACHE_DIR } from '../../deploy/kafka/artifacts.ts';
import { type KafkaBrokerHandle, startKafka } from '../../deploy/kafka/broker.ts';
import { freePort } from '../../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import type { Bus, DeliveredMessage } from '../../platform/bus/bus.ts';
import { createKafkaBus } from '../../platform/bus/kafka-bus.ts';
import { loadConfig } from '../../platform/config.ts';
import { type RelayOptions, startRelay } from './relay.ts';

// What the relay's test files share: a real PostgreSQL and Kafka broker, a relay on them, events committed as
// writers commit them, a consumer that records each media's order, and waits that fail saying what they
// waited for.

const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
let dir: string;
export let postgres: PostgresHandle;
export let database: DatabaseHandle;
export let broker: KafkaBrokerHandle;
let bus: Bus;

/** Starts PostgreSQL and a Kafka broker for the calling test file, and stops them after it. */
export function useRelayHarness(): void {
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
}

export const newMedia = (count: number) => Array.from({ length: count }, () => randomUUID());

/** A relay on the test's database and broker, polling every 100 ms unless told. */
export const relayWith = (options: Partial<RelayOptions>) =>
  startRelay({ connectionString: postgres.url, bus, logger, pollIntervalMs: 100, ...options });

/** Polls `done` until it holds, failing with `what` after `ms`. */
export async function waitFor(
  done: () => boolean | Promise<boolean>,
  what: string,
  ms = 90_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Events `from`…`to - 1` of each media, committed round by round: event n of every media, then n + 1. */
export async function commitEvents(
  topic: string,
  ids: string[],
  from: number,
  to: number,
): Promise<string[]> {
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
export async function receive(topic: string) {
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
export const allPublished = () =>
  waitFor(async () => (await unpublishedRows()) === 0, 'every row marked published', 10_000);

export function assertCommitOrder(byMedia: Map<string, number[]>, media: number, perMedia: number) {
  assert.equal(byMedia.size, media);
  const expected = Array.from({ length: perMedia }, (_, n) => n);
  for (const [mediaId, order] of byMedia) assert.deepEqual(order, expected, `events of ${mediaId}`);
}
