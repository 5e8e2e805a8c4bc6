import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { DEFAULT_CACHE_DIR } from '../../deploy/kafka/artifacts.ts';
import { type KafkaBrokerHandle, startKafka } from '../../deploy/kafka/broker.ts';
import type { Config } from '../config.ts';
import { runBusContract } from './bus.contract.ts';
import type { BusMessage } from './bus.ts';
import { createKafkaBus, type KafkaBusOptions } from './kafka-bus.ts';
import { kafkaGroupId, topicNames } from './kafka-topics.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
const partitions = 3;
const prefix = `test-${randomUUID().slice(0, 8)}.`;
let dataDir: string | undefined;
let broker: KafkaBrokerHandle | undefined;
let brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);

before(async () => {
  if (brokers.length > 0) return;
  dataDir = await mkdtemp(join(tmpdir(), 'mediagate-kafka-bus-'));
  broker = await startKafka({ cacheDir: DEFAULT_CACHE_DIR, dataDir });
  brokers = broker.brokers;
});

after(async () => {
  await broker?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const config = (): Config['kafka'] => ({
  brokers,
  topicPrefix: prefix,
  partitions,
  replicationFactor: 1,
  clientId: 'kafka-bus-test',
  // The contract checks that messages behind a failing one are handled before its first retry is due; each
  // failure is routed through a produce to the broker first, which on a loaded machine can take 100 ms.
  retryBaseDelayMs: 400,
  sessionTimeoutMs: 6000,
  heartbeatIntervalMs: 1000,
  rebalanceTimeoutMs: 3000,
  reconnectMaxDelayMs: 1000,
});

const openBus = (options: KafkaBusOptions = {}, log = logger) => createKafkaBus(config(), log, options);

runBusContract('kafka', async () => ({ bus: await openBus(), cleanup: async () => {} }), {
  perKeyOrder: true,
});

describe('kafka bus', () => {
  test('a bus opens while no broker answers (a role starts and listens); publishing then fails, not the start', async () => {
    const bus = await createKafkaBus(
      { ...config(), brokers: ['127.0.0.1:1'], reconnectMaxDelayMs: 100 },
      logger,
    );
    await assert.rejects(
      bus.publish('orphan', [{ id: randomUUID(), key: 'k', type: 't', payload: {}, headers: {} }]),
    );
    await bus.close();
  });

  test('a handler running longer than the session timeout is delivered once, without a rebalance', async (t) => {
    const lines: string[] = [];
    const captured = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const bus = await openBus({}, captured);
    const topic = uniqueTopic();
    const long = message('long');
    // A key on another partition: the long handler must not hold it up.
    const other = message(await keyOnAnotherPartition(long.key));
    const started: string[] = [];
    const finished: string[] = [];
    try {
      await bus.subscribe(
        topic,
        'g',
        async (m) => {
          started.push(m.id);
          if (m.id === long.id) await sleep(15_000);
          finished.push(m.id);
        },
        { concurrency: 2 },
      );
      const begin = Date.now();
      await bus.publish(topic, [long]);
      await waitFor(() => started.includes(long.id), 'the long handler to start');
      await bus.publish(topic, [other]);
      await waitFor(() => finished.includes(other.id), 'the message on another partition');
      assert.ok(!finished.includes(long.id), 'the other partition is served while the long handler runs');
      await waitFor(() => finished.includes(long.id), 'the long handler', 40_000);
      await sleep(3000); // a redelivery after an eviction would show up by now
      t.diagnostic(`long handler done after ${Date.now() - begin} ms`);
      assert.deepEqual(
        started.filter((id) => id === long.id),
        [long.id],
      );
    } finally {
      await bus.close();
    }
    const joins = lines.filter((l) => JSON.parse(l).msg === 'Kafka consumer joined its group');
    assert.equal(joins.length, 1, 'the consumer joined once and never rebalanced');
    assert.equal(await committedOffset(topic, 'g'), 2, 'both offsets committed');
  });

  test('a slow message holds only its own key: the rest of its partition goes on, and the commit waits for it', async () => {
    const bus = await openBus();
    const topic = uniqueTopic();
    const slow = message('slow-key');
    const afterSlow = message('slow-key');
    const neighbour = message(await keyOnAnotherPartition('slow-key', true));
    const release = Promise.withResolvers<void>();
    const started: string[] = [];
    const finished: string[] = [];
    try {
      await bus.subscribe(
        topic,
        'g',
        async (m) => {
          started.push(m.id);
          if (m.id === slow.id) await release.promise;
          finished.push(m.id);
        },
        { concurrency: 2 },
      );
      await bus.publish(topic, [slow, afterSlow, neighbour]);
      await waitFor(() => finished.includes(neighbour.id), 'the neighbour on the same partition');
      assert.ok(!finished.includes(slow.id), 'the neighbour did not wait for the slow message');
      assert.ok(!started.includes(afterSlow.id), 'the slow key’s next message waits for it');
      await sleep(1500);
      assert.equal(await committedOffset(topic, 'g'), 0, 'nothing committed past the unfinished message');
      release.resolve();
      await waitFor(() => finished.includes(afterSlow.id), 'the slow key’s next message');
      assert.deepEqual(
        finished.filter((id) => id !== neighbour.id),
        [slow.id, afterSlow.id],
        'one key, publish order',
      );
      await waitFor(() => finished.length === 3, 'all three');
    } finally {
      release.resolve();
      await bus.close();
    }
    assert.equal(await committedOffset(topic, 'g'), 3, 'all three committed once done');
  });

  test('members joining and leaving the group mid-stream lose no message', async (t) => {
    const topic = uniqueTopic();
    const seen: string[] = [];
    const handler = async (m: BusMessage) => {
      await sleep(2);
      seen.push(m.id);
    };
    const first = await openBus();
    const second = await openBus();
    try {
      await first.subscribe(topic, 'g', handler, { concurrency: 2 });
      const sent = Array.from({ length: 600 }, (_, i) => message(`key-${i % 31}`));
      await first.publish(topic, sent.slice(0, 200));
      await waitFor(() => seen.length >= 50, 'the first member to be busy');
      const joined = await second.subscribe(topic, 'g', handler, { concurrency: 2 });
      await first.publish(topic, sent.slice(200, 400));
      await waitFor(() => seen.length >= 300, 'both members to be busy');
      await joined.stop();
      await first.publish(topic, sent.slice(400));
      await waitFor(() => sent.every((m) => seen.includes(m.id)), 'every message', 60_000);
      t.diagnostic(`${seen.length - new Set(seen).size} redeliveries around the rebalances`);
    } finally {
      await second.close();
      await first.close();
    }
  });

  test('a rebalance hands no finished message to another member; only handlers running then are repeated', async (t) => {
    const topic = uniqueTopic();
    const concurrency = 2;
    /** Every finished handling, by member. */
    const finished: { id: string; member: string }[] = [];
    const handler = (member: string) => async (m: BusMessage) => {
      await sleep(20);
      finished.push({ id: m.id, member });
    };
    const first = await openBus();
    const second = await openBus();
    const sent: BusMessage[] = [];
    let publishing = true;
    let hung: Awaited<ReturnType<typeof hungMember>> | undefined;
    try {
      await first.subscribe(topic, 'g', handler('first'), { concurrency });
      // A member whose handler hangs never rejoins, so the next rebalance waits for its session to expire: a
      // long rebalance, as when a worker dies just before another starts. The others finish work meanwhile.
      hung = await hungMember(topic, 'g');
      const producer = (async () => {
        while (publishing) {
          const batch = Array.from({ length: 10 }, () => message(`key-${randomUUID().slice(0, 4)}`));
          await first.publish(topic, batch);
          sent.push(...batch);
          await sleep(100);
        }
      })();
      await hung.join();
      await waitFor(() => finished.length >= 100, 'the first member to be busy');
      const rebalanceAt = Date.now();
      await second.subscribe(topic, 'g', handler('second'), { concurrency });
      t.diagnostic(`the rebalance took ${Date.now() - rebalanceAt} ms`);
      await sleep(2000);
      publishing = false;
      await producer;
      await waitFor(() => new Set(finished.map((f) => f.id)).size >= sent.length, 'every message', 60_000);
      await sleep(1000); // a late redelivery would show up by now

      const repeated = finished.length - new Set(finished.map((f) => f.id)).size;
      t.diagnostic(`${sent.length} messages, ${repeated} handled again`);
      // Two rebalances (the hung member joining, the second member joining); each may cut off what the first
      // member was running at that moment, nothing it had finished.
      assert.ok(repeated <= 2 * concurrency, `${repeated} messages handled again`);
    } finally {
      publishing = false;
      await second.close();
      await first.close();
      await hung?.release();
    }
  });

  test('retries wait for their not-before time', async () => {
    const bus = await openBus({ retryBaseDelayMs: 1000 });
    const topic = uniqueTopic();
    const times: number[] = [];
    try {
      await bus.subscribe(topic, 'g', async (m) => {
        times.push(Date.now());
        if (m.attempt < 3) throw new Error(`attempt ${m.attempt} fails`);
      });
      await bus.publish(topic, [message('k')]);
      await waitFor(() => times.length >= 3, 'the third attempt');
    } finally {
      await bus.close();
    }
    const [first, second, third] = times as [number, number, number];
    // Never early: the not-before header holds each retry back for its backoff (how late is for bench/).
    assert.ok(second - first >= 1000, `first retry after ${second - first} ms`);
    assert.ok(third - second >= 2000, `second retry after ${third - second} ms`);
  });

  // Only a broker this suite started may be killed; an external cluster (KAFKA_BROKERS) is left alone.
  if (!process.env.KAFKA_BROKERS)
    test('a broker killed and restarted while publishing loses no acknowledged message', async (t) => {
      const killable = broker as KafkaBrokerHandle;
      const bus = await openBus();
      const topic = uniqueTopic();
      const acknowledged = new Set<string>();
      let failed = 0;
      let producing = true;
      try {
        await bus.publish(topic, [message('warm-up')]);
        const producer = (async () => {
          for (let n = 0; producing; n++) {
            const batch = Array.from({ length: 50 }, (_, i) => message(`key-${(n * 50 + i) % 17}`));
            try {
              await bus.publish(topic, batch);
              for (const m of batch) acknowledged.add(m.id);
            } catch {
              failed++;
            }
          }
        })();
        await sleep(500);
        const before = acknowledged.size;
        const downAt = Date.now();
        await killable.kill();
        await killable.restart();
        t.diagnostic(`broker back after ${Date.now() - downAt} ms`);
        await sleep(1000);
        producing = false;
        await producer;
        assert.ok(acknowledged.size > before, 'publishing went on after the restart');

        const seen = new Set<string>();
        await bus.subscribe(topic, 'verify', async (m) => {
          seen.add(m.id);
        });
        await waitFor(
          () => [...acknowledged].every((id) => seen.has(id)),
          'every acknowledged message',
          60_000,
        );
        t.diagnostic(
          `${acknowledged.size} acknowledged, ${failed} publish calls rejected, ${seen.size} read back`,
        );
      } finally {
        await bus.close();
      }
    });
});

/** A raw member of the bus's group whose first batch never returns: it stops heartbeating without leaving. */
async function hungMember(topic: string, group: string) {
  const names = topicNames(prefix, topic);
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: kafkaGroupId(prefix, topic, group),
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    heartbeatInterval: 1000,
  });
  const released = Promise.withResolvers<void>();
  let hanging = false;
  await consumer.connect();
  await consumer.subscribe({ topics: [names.main, ...names.retries], fromBeginning: true });
  return {
    /** Resolves once the member is in the group and hangs in its handler. */
    async join() {
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async () => {
          hanging = true;
          await released.promise;
        },
      });
      await waitFor(() => hanging, 'the hung member to take a batch');
    },
    async release() {
      released.resolve();
      await consumer.disconnect();
    },
  };
}

function uniqueTopic(): string {
  return `bus.${randomUUID().slice(0, 8)}`;
}

function message(key: string): BusMessage {
  return { id: randomUUID(), key, type: 'kafka.tested', payload: { at: Date.now() }, headers: {} };
}

/** A key that the producer's partitioner puts on a different partition than `key`, or on the same one. */
async function keyOnAnotherPartition(key: string, same = false): Promise<string> {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    partitionErrorCode: 0,
    leader: 1,
    replicas: [1],
    isr: [1],
  }));
  const partitionOf = (k: string) =>
    partitioner({ topic: 't', partitionMetadata, message: { key: k, value: null } });
  for (let i = 0; ; i++) {
    if ((partitionOf(`other-${i}`) === partitionOf(key)) === same) return `other-${i}`;
  }
}

/** The group's committed offsets on the main topic, summed over partitions. */
async function committedOffset(topic: string, group: string): Promise<number> {
  const admin = new Kafka({ brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({
      groupId: kafkaGroupId(prefix, topic, group),
      topics: [topicNames(prefix, topic).main],
    });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

async function waitFor(check: () => boolean, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
