import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { type Relay, type RelayOptions, startRelay } from '../api/outbox/relay.ts';
import { topics } from '../contracts/events.ts';
import { connectDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { enqueueEvents, type OutboxEvent } from '../db/queries/outbox.ts';
import { DEFAULT_CACHE_DIR } from '../deploy/kafka/artifacts.ts';
import { startKafka } from '../deploy/kafka/broker.ts';
import { freePort } from '../deploy/ports.ts';
import { startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import type { DeliveredMessage } from '../platform/bus/bus.ts';
import { createKafkaBus } from '../platform/bus/kafka-bus.ts';
import { loadConfig } from '../platform/config.ts';
import { printTable } from './lib.ts';
import { type CpuPerEvent, cpuMeter } from './relay-cpu.ts';
import { optimizeRequest, rawProducer } from './relay-raw.ts';
import { printCpu, printDrains, type Round } from './relay-report.ts';
import { outboxUpdates, summary, timeRelayStatements } from './relay-statements.ts';

// The outbox relay end to end — outbox rows committed in PostgreSQL, relayed to Kafka, received by a bus
// consumer — against the raw kafkajs producer sending the same records to the same broker. Everything runs on
// this machine: PostgreSQL (with fsync), one Kafka broker, and one Node process for writers, relay and consumer.
//
// Sustained drain, the relay's ceiling: each round commits a backlog of `--events` rows in one transaction
// while the relay runs idle (connected, leading, listening, warmed by the phases before), and times it from
// just before that COMMIT to the relay's last acknowledged send and to the last receipt. The raw producer,
// connected and warmed likewise, sends as many records (built before its clock starts) and is timed from its
// first send to its last acknowledgement and to the last receipt. Each side's rate is events / that time;
// rounds alternate which side goes first, and each round's ratio and the median over rounds are reported.
// The relay stamps its rows' `published_at` in the outbox in bulk after sending them: one more row times the
// drain to the last stamp, and the CPU table gives the stamping's cost apart from the drain's.
// Streaming, for latency: 16 writers commit one row per transaction as completing an upload does, and each
// event's time from just before its commit to its receipt gives p50 / p99.

const { values: args } = parseArgs({
  options: { events: { type: 'string', default: '40000' }, rounds: { type: 'string', default: '3' } },
});
const events = Number(args.events);
const rounds = Number(args.rounds);
const streamEvents = 10_000;
const warmupEvents = 1_000;
/** Concurrent writers while streaming, each committing one outbox row per transaction. */
const writers = 16;
/** The relay's batch size; the raw producer sends batches of the same size. */
const batchSize = 500;
const partitions = 6;
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

const optimizeEvent = (): OutboxEvent => {
  const payload = optimizeRequest();
  return {
    aggregateId: payload.mediaId,
    topic: topics.optimizeRequest,
    eventType: 'media.optimize.request',
    payload,
  };
};

/** Commits `count` outbox rows from `writers` concurrent writers, one row per transaction. */
async function stream(count: number): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (left > 0) {
        left--;
        await database.db.transaction((tx) => enqueueEvents(tx, [optimizeEvent()]));
      }
    }),
  );
}

/** Commits `count` outbox rows in one transaction; `committing` runs just before its COMMIT. */
async function commitBacklog(count: number, committing: () => void): Promise<void> {
  await database.db.transaction(async (tx) => {
    for (let written = 0; written < count; written += 1000)
      await enqueueEvents(tx, Array.from({ length: Math.min(1000, count - written) }, optimizeEvent));
    committing();
  });
}

let received = 0;
let lastReceipt = 0;
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

/** Until the relay has stamped `published_at` on every row it sent (it does so in bulk, soon after). */
async function stamped(): Promise<number> {
  const owed = () =>
    database.pool.query<{ owed: boolean }>(
      'select exists (select from outbox_published_batch) or exists (select from outbox_pending) as owed',
    );
  while ((await owed()).rows[0]?.owed) await sleep(20);
  return performance.now();
}

/** Events the relay has had acknowledged, and when the last acknowledgement came. */
let relayAcked = 0;
let relayLastAck = 0;
const relayOptions: RelayOptions = {
  connectionString: postgres.url,
  bus,
  logger,
  batchSize,
  metrics: {
    published(_topic, count) {
      relayAcked += count;
      relayLastAck = performance.now();
    },
    failed() {},
  },
};
let relay: Relay | undefined;

try {
  await migrateDatabase(database.db);
  relay = startRelay(relayOptions);
  const seen = new Set<string>();
  const receive = async (message: DeliveredMessage) => {
    const now = performance.now();
    if (seen.has(message.id)) return;
    seen.add(message.id);
    received++;
    lastReceipt = now;
    latencies.push(now - (message.payload as { writtenAt: number }).writtenAt);
    onReceipt();
  };
  const subscription = await bus.subscribe(topics.optimizeRequest, 'bench', receive, {
    concurrency: partitions,
  });
  // The raw producer's records are consumed the same way, so both sides carry the same consumer's load.
  const rawSubscription = await bus.subscribe(rawTopic, 'bench', receive, { concurrency: partitions });
  const raw = await rawProducer(broker.brokers, `bench.${rawTopic}`, batchSize, database.pool);
  let total = 0;

  // Warm-up: topics, the consumer group, connections and JIT, on both sides.
  await commitBacklog(warmupEvents, () => {});
  await raw.send(await raw.prepare(warmupEvents));
  total += 2 * warmupEvents;
  await receivedAll(total);
  await stamped();

  // Streaming: rows are relayed while they are being committed.
  latencies = [];
  let start = performance.now();
  await stream(streamEvents);
  const committed = performance.now();
  total += streamEvents;
  await receivedAll(total);
  const streamed = { seconds: (lastReceipt - start) / 1000, commitSeconds: (committed - start) / 1000 };
  const streamLatencies = latencies.toSorted((a, b) => a - b);
  await stamped();

  const writes: CpuPerEvent[] = [];
  const stamps: CpuPerEvent[] = [];
  const relayRound = async (): Promise<Round> => {
    const ackTarget = relayAcked + events;
    const writing = cpuMeter();
    let meter = writing;
    await commitBacklog(events, () => {
      writes.push(writing(events));
      meter = cpuMeter();
      start = performance.now();
    });
    total += events;
    await receivedAll(total);
    while (relayAcked < ackTarget) await sleep(5);
    const receipt = lastReceipt;
    const cpu = meter(events);
    const stamping = cpuMeter();
    const done = await stamped();
    stamps.push(stamping(events));
    return {
      acked: events / ((relayLastAck - start) / 1000),
      received: events / ((receipt - start) / 1000),
      stamped: events / ((done - start) / 1000),
      cpu,
    };
  };
  const rawRound = async (): Promise<Round> => {
    const batches = await raw.prepare(events);
    const meter = cpuMeter();
    start = performance.now();
    await raw.send(batches);
    const acked = performance.now();
    total += events;
    await receivedAll(total);
    return {
      acked: events / ((acked - start) / 1000),
      received: events / ((lastReceipt - start) / 1000),
      cpu: meter(events),
    };
  };
  const drains: Round[] = [];
  const raws: Round[] = [];
  const updatesBefore = await outboxUpdates(database.pool);
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      drains.push(await relayRound());
      raws.push(await rawRound());
    } else {
      raws.push(await rawRound());
      drains.push(await relayRound());
    }
  }
  const updatesAfter = await outboxUpdates(database.pool);
  await relay.stop();
  relay = undefined;
  await subscription.stop();
  await rawSubscription.stop();
  await raw.close();
  await commitBacklog(statementBatches * batchSize, () => {});
  const statements = await timeRelayStatements(postgres.url, batchSize, statementBatches / 2);

  const percentile = (p: number) =>
    streamLatencies[Math.min(streamLatencies.length - 1, Math.floor(streamLatencies.length * p))] ?? 0;
  console.log(
    `${events} events per round, ${rounds} rounds, after ${warmupEvents} warm-up each; relay batches of ` +
      `${batchSize}; ${partitions} partitions; ${availableParallelism()} CPUs`,
  );
  printDrains(drains, raws);
  console.log();
  printTable([
    [`streaming, ${streamEvents} events from ${writers} writers`, 'value'],
    ['rows committed by the writers, events/s', (streamEvents / streamed.commitSeconds).toFixed(0)],
    ['first commit → last receipt, events/s', (streamEvents / streamed.seconds).toFixed(0)],
    ['commit → consume p50, ms', percentile(0.5).toFixed(1)],
    ['commit → consume p99, ms', percentile(0.99).toFixed(1)],
    ['commit → consume max, ms', (streamLatencies.at(-1) ?? 0).toFixed(1)],
  ]);
  console.log();
  printCpu([
    ['relay: commit → last receipt', drains.map((d) => d.cpu)],
    ['relay: stamping published_at after', stamps],
    ['raw producer: first send → last receipt', raws.map((r) => r.cpu)],
    ['writing the backlog (in neither)', writes],
  ]);
  console.log();
  const marks = updatesAfter.updates - updatesBefore.updates;
  printTable([
    [`relay statements, batches of ${batchSize}`, 'ms median / max'],
    ['read pending rows (with payloads)', summary(statements.read)],
    ['mark published', summary(statements.mark)],
    ['mark the batch before and read the next, one statement', summary(statements.markAndRead)],
    ['stamp published_at, all batches in one statement (per batch)', summary(statements.stamp)],
    ['outbox updates in the drains that were HOT', `${updatesAfter.hot - updatesBefore.hot} of ${marks}`],
  ]);
  console.log(
    '\nThe consumer (one bus subscription per topic, concurrency 6) receives both sides alike. CPU per event: ' +
      'this process (relay or raw producer, and the consumer) and each server, over the same window as the ' +
      'rate; on a busy machine the rates move with the load, the CPU per event much less. Statements: ' +
      `${statementBatches} batches committed, then read and marked on a session of their own, nothing else ` +
      'running: half as two statements per batch, half as the relay does it.',
  );
} finally {
  await relay?.stop();
  await bus.close();
  await database.close();
  await broker.stop();
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
}
