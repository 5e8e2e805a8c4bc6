import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { DEFAULT_CACHE_DIR } from './artifacts.ts';
import { type KafkaBrokerHandle, startKafka } from './broker.ts';

const TOPIC = 'broker-test';
const COUNT = 100;

let dataDir: string;
let broker: KafkaBrokerHandle;
let kafka: Kafka;
let producer: Producer;

before(async (t) => {
  dataDir = await mkdtemp(join(tmpdir(), 'mediagate-kafka-'));
  const started = Date.now();
  broker = await startKafka({ cacheDir: DEFAULT_CACHE_DIR, dataDir });
  t.diagnostic(`broker serving on ${broker.brokers[0]} after ${Date.now() - started} ms`);
  kafka = new Kafka({ brokers: broker.brokers, clientId: 'broker-test', logLevel: logLevel.ERROR });
  // An explicit partitioner also silences kafkajs's "switched default partitioner" warning.
  producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
});

after(async () => {
  await producer?.disconnect();
  await broker?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Reads the topic from the beginning in a fresh group until `done` holds for what has arrived. */
async function consume(groupId: string, done: (values: string[]) => boolean) {
  const consumer = kafka.consumer({ groupId });
  const values: string[] = [];
  const partitions = new Set<number>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ partition, message }) => {
            values.push(String(message.value));
            partitions.add(partition);
            if (done(values)) resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return { values, partitions };
}

const sent = Array.from({ length: COUNT }, (_, i) => `m${i}`);

test('100 acked messages round-trip through 3 partitions and a consumer group', {
  timeout: 120_000,
}, async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    assert.equal(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3 }] }), true);
  } finally {
    await admin.disconnect();
  }
  await producer.send({ topic: TOPIC, acks: -1, messages: sent.map((value) => ({ key: value, value })) });

  const { values, partitions } = await consume('before-kill', (v) => v.length >= COUNT);
  assert.deepEqual([...values].sort(), [...sent].sort());
  assert.deepEqual([...partitions].sort(), [0, 1, 2]);
});

test('after kill() and restart() acked data survives and clients carry on', {
  timeout: 120_000,
}, async (t) => {
  await broker.kill();
  const restarting = Date.now();
  await broker.restart();
  t.diagnostic(`broker serving again after ${Date.now() - restarting} ms`);

  // The producer connected before the kill: it has to reconnect to the same address by itself.
  await producer.send({ topic: TOPIC, acks: -1, messages: [{ key: 'after', value: 'after-restart' }] });

  const { values } = await consume('after-restart', (v) => v.includes('after-restart') && v.length > COUNT);
  assert.deepEqual([...values].sort(), [...sent, 'after-restart'].sort());
});
