import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type Message, Partitioners } from 'kafkajs';
import { pino } from 'pino';
import { startRelay } from '../api/outbox/relay.ts';
import { topics } from '../contracts/events.ts';
import { connectDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { enqueueEvents } from '../db/queries/outbox.ts';
import { DEFAULT_CACHE_DIR } from '../deploy/kafka/artifacts.ts';
import { startKafka } from '../deploy/kafka/broker.ts';
import { startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import type { DeliveredMessage } from '../platform/bus/bus.ts';
import { createKafkaBus } from '../platform/bus/kafka-bus.ts';
import { loadConfig } from '../platform/config.ts';
import { freePort } from '../test/ports.ts';
import { printTable } from './lib.ts';
import { childCpuSeconds } from './process-cpu.ts';
import { outboxUpdates, summary, timeRelayStatements } from './relay-statements.ts';

// The outbox relay end to end — rows committed as the API commits them, relayed to Kafka, received by a bus
// consumer — against the raw kafkajs producer sending the same records to the same broker. Everything runs on
// this machine: PostgreSQL (with fsync), one Kafka broker, and one Node process for writers, relay and consumer.

const events = 10_000;
const warmupEvents = 500;
/** Concurrent writers, each committing one outbox row per transaction, as completing an upload does. */
const writers = 16;
/** The relay's batch size; the raw producer sends batches of the same size. */
const batchSize = 500;
const partitions = 6;
const rounds = 2;
const rawTopic = 'raw';
/** Batches whose relay statements are timed one by one after the rounds. */
const statementBatches = 10;

const logger = pino({ level: 'error' });
const dir = await mkdtemp(join(tmpdir(), 'bench-relay-'));
const postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: await freePort() });
const broker = await startKafka({ cacheDir: DEFAULT_CACHE_DIR, dataDir: join(dir, 'kafka') });
const database = connectDatabase(postgres.url, writers + 2);
const bus = await createKafkaBus(
  {
    ...loadConfig({}).kafka,
    brokers: broker.brokers,
    topicPrefix: 'bench.',
    partitions,
    replicationFactor: 1,
    clientId: 'bench-relay',
    retryBaseDelayMs: 1000,
  },
  logger,
);
const relayOf = () => startRelay({ connectionString: postgres.url, bus, logger, batchSize });

/** An optimize request of realistic size, stamped with the time it is written. */
function request() {
  const mediaId = randomUUID();
  const objectKey = `raw/${mediaId}/${randomUUID()}`;
  return {
    mediaId,
    bucket: 'mediagate',
    objectKey,
    kind: 'image',
    contentType: 'image/jpeg',
    canonicalUrl: `https://edge.example.com/m/${objectKey}`,
    probe: { format: 'jpeg', width: 4032, height: 3024, bytes: 3_481_223, orientation: 6 },
    writtenAt: performance.now(),
  };
}

/** Commits `count` outbox rows from `writers` concurrent writers, one row per transaction. */
async function write(count: number): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (left > 0) {
        left--;
        const payload = request();
        await database.db.transaction((tx) =>
          enqueueEvents(tx, [
            {
              aggregateId: payload.mediaId,
              topic: topics.optimizeRequest,
              eventType: 'media.optimize.request',
              payload,
            },
          ]),
        );
      }
    }),
  );
}

let received = 0;
let latencies: number[] = [];
let onReceipt = () => {};
/** A phase that stops receiving for this long has lost events: the run fails saying so instead of hanging. */
const stallMs = 120_000;
const receivedAll = (count: number) =>
  new Promise<void>((resolve, reject) => {
    let last = received;
    const watchdog = setInterval(() => {
      if (received > last) last = received;
      else {
        clearInterval(watchdog);
        reject(new Error(`stalled: ${received} of ${count} events received, none in ${stallMs / 1000} s`));
      }
    }, stallMs);
    onReceipt = () => {
      if (received < count) return;
      clearInterval(watchdog);
      resolve();
    };
    onReceipt();
  });

/** CPU per event of this process (writers idle, relay or raw producer, consumer) and of each server. */
interface CpuPerEvent {
  node: number;
  postgres: number;
  kafka: number;
}
function cpuMeter() {
  const node = process.cpuUsage();
  const servers = childCpuSeconds();
  return (count: number): CpuPerEvent => {
    const spent = process.cpuUsage(node);
    const now = childCpuSeconds();
    const server = (name: string) => ((now.get(name) ?? 0) - (servers.get(name) ?? 0)) * 1e6;
    return {
      node: (spent.user + spent.system) / count,
      postgres: server('postgres') / count,
      kafka: server('java') / count,
    };
  };
}

try {
  await migrateDatabase(database.db);
  const seen = new Set<string>();
  const receive = async (message: DeliveredMessage) => {
    const now = performance.now();
    if (seen.has(message.id)) return;
    seen.add(message.id);
    received++;
    latencies.push(now - (message.payload as { writtenAt: number }).writtenAt);
    onReceipt();
  };
  const subscription = await bus.subscribe(topics.optimizeRequest, 'bench', receive, {
    concurrency: partitions,
  });
  // The raw producer's records are consumed the same way, so both sides carry the same consumer's load.
  const rawSubscription = await bus.subscribe(rawTopic, 'bench', receive, { concurrency: partitions });
  const raw = await rawProducer();

  // Warm-up: topics, the consumer group, connections and JIT.
  let relay = relayOf();
  await write(warmupEvents);
  await receivedAll(warmupEvents);

  // Streaming: rows are relayed while they are being committed.
  latencies = [];
  let start = performance.now();
  await write(events);
  const committed = performance.now();
  await receivedAll(warmupEvents + events);
  const streamed = { seconds: (performance.now() - start) / 1000, commitSeconds: (committed - start) / 1000 };
  const streamLatencies = latencies.toSorted((a, b) => a - b);

  await relay.stop();
  // Backlog: rows committed while no relay runs, then drained (the relay's ceiling), interleaved with the raw
  // producer sending as many records, so that whatever else loads the machine hits both alike.
  const drains: number[] = [];
  const raws: { sent: number; received: number }[] = [];
  const cpu: { relay: CpuPerEvent[]; raw: CpuPerEvent[] } = { relay: [], raw: [] };
  let total = warmupEvents + events;
  await raw.send(warmupEvents);
  total += warmupEvents;
  await receivedAll(total);
  const updatesBefore = await outboxUpdates(database.pool);
  for (let round = 0; round < rounds; round++) {
    await write(events);
    start = performance.now();
    let meter = cpuMeter();
    relay = relayOf();
    total += events;
    await receivedAll(total);
    drains.push(events / ((performance.now() - start) / 1000));
    cpu.relay.push(meter(events));
    await relay.stop();
    start = performance.now();
    meter = cpuMeter();
    await raw.send(events);
    const sent = performance.now();
    total += events;
    await receivedAll(total);
    cpu.raw.push(meter(events));
    raws.push({
      sent: events / ((sent - start) / 1000),
      received: events / ((performance.now() - start) / 1000),
    });
  }
  const updatesAfter = await outboxUpdates(database.pool);
  await subscription.stop();
  await rawSubscription.stop();
  await raw.close();
  await write(statementBatches * batchSize);
  const statements = await timeRelayStatements(postgres.url, batchSize, statementBatches / 2);

  const percentile = (p: number) =>
    streamLatencies[Math.min(streamLatencies.length - 1, Math.floor(streamLatencies.length * p))] ?? 0;
  const rate = (seconds: number) => events / seconds;
  const perRound = (values: number[]) => values.map((v) => v.toFixed(0)).join(' / ');
  const ratios = (values: number[], anchors: number[]) =>
    values.map((v, i) => `${(v / (anchors[i] ?? Number.NaN)).toFixed(2)}x`).join(' / ');
  const rawSent = raws.map((r) => r.sent);
  const rawReceived = raws.map((r) => r.received);

  console.log(
    `${events} events per phase after ${warmupEvents} warm-up; ${writers} writers, one row per transaction; ` +
      `relay batches of ${batchSize}; ${partitions} partitions; ${rounds} rounds; ${availableParallelism()} CPUs`,
  );
  printTable([
    ['measure', 'events/s per round', 'vs raw sent', 'vs raw sent → received'],
    ['outbox rows committed by the writers', rate(streamed.commitSeconds).toFixed(0), '', ''],
    ['streaming: first commit → last receipt', rate(streamed.seconds).toFixed(0), '', ''],
    [
      'backlog drain: relay start → last receipt',
      perRound(drains),
      ratios(drains, rawSent),
      ratios(drains, rawReceived),
    ],
    ['raw kafkajs producer: sent (acked)', perRound(rawSent), '1.00x', ''],
    ['raw kafkajs producer: first send → last receipt', perRound(rawReceived), '', '1.00x'],
  ]);
  console.log();
  printTable([
    ['streaming commit → consume', 'ms'],
    ['p50', percentile(0.5).toFixed(1)],
    ['p99', percentile(0.99).toFixed(1)],
    ['max', (streamLatencies.at(-1) ?? 0).toFixed(1)],
  ]);
  console.log();
  const cpuRow = (what: string, rounds: CpuPerEvent[]) =>
    [what, ...(['node', 'postgres', 'kafka'] as const).map((k) => perRound(rounds.map((r) => r[k])))].concat(
      perRound(rounds.map((r) => r.node + r.postgres + r.kafka)),
    );
  printTable([
    ['CPU µs per event, per round', 'this process', 'PostgreSQL', 'Kafka broker', 'together'],
    cpuRow('backlog drain (relay)', cpu.relay),
    cpuRow('raw kafkajs producer', cpu.raw),
  ]);
  console.log();
  const marks = updatesAfter.updates - updatesBefore.updates;
  printTable([
    [`relay statements, batches of ${batchSize}`, 'ms median / max'],
    ['read pending rows (with payloads)', summary(statements.read)],
    ['mark published', summary(statements.mark)],
    ['mark the batch before and read the next, one statement', summary(statements.markAndRead)],
    ['outbox updates in the drains that were HOT', `${updatesAfter.hot - updatesBefore.hot} of ${marks}`],
  ]);
  console.log(
    '\nraw = an idempotent acks=all producer sending the same records in batches of the relay size, one batch ' +
      'at a time, to its own topic on the same broker, consumed like the relayed ones. Streaming is as fast as ' +
      'the writers commit; its latency runs from just before the commit to receipt. CPU per event: this ' +
      'process (relay or raw producer, and the consumer both have) and each server, from the rows being ' +
      'there to the last receipt; on a busy machine the rates move with the load, the CPU per event much less. ' +
      `Statements: ${statementBatches} batches committed by the writers, then read and marked on a session of ` +
      'their own, nothing else running: half as two statements per batch, half as the relay does it.',
  );
} finally {
  await bus.close();
  await database.close();
  await broker.stop();
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
}

/** The bare kafkajs producer with the bus's producer settings, sending records of the same size. */
async function rawProducer() {
  const kafka = new Kafka({ brokers: broker.brokers, clientId: 'bench-raw', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const record = (): Message => {
    const payload = request();
    return {
      key: payload.mediaId,
      value: JSON.stringify(payload),
      headers: { 'event-id': randomUUID(), 'event-type': 'media.optimize.request', 'schema-version': '1' },
    };
  };
  return {
    async send(count: number) {
      for (let sent = 0; sent < count; sent += batchSize) {
        const messages = Array.from({ length: Math.min(batchSize, count - sent) }, record);
        await producer.send({ topic: `bench.${rawTopic}`, messages, acks: -1 });
      }
    },
    close: () => producer.disconnect(),
  };
}
