import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { pino } from 'pino';
import { freePort } from '../../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import { runBusContract } from './bus.contract.ts';
import type { Bus, BusMessage, DeliveredMessage } from './bus.ts';
import { createEmbeddedBus } from './embedded-bus.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
let dir: string | undefined;
let postgres: PostgresHandle | undefined;
let databaseUrl = process.env.DATABASE_URL;

before(async () => {
  if (databaseUrl) return;
  dir = await mkdtemp(join(tmpdir(), 'mediagate-embedded-bus-'));
  // PostgreSQL runs as a separate `postgres` user when the tests run as root.
  await chmod(dir, 0o755);
  postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'postgres'),
    port: await freePort(),
    durable: false,
  });
  databaseUrl = postgres.url;
});

after(async () => {
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

runBusContract(
  'embedded',
  async () => ({
    bus: await createEmbeddedBus({
      connectionString: databaseUrl as string,
      topicPrefix: 'test.',
      logger,
      retryBaseDelayMs: 100,
    }),
    cleanup: async () => {},
  }),
  { perKeyOrder: false },
);

/**
 * Jobs of a process that stops are not left `active` for hours: a clean stop hands them back at once, as the
 * same attempt; a killed process's are retried once their lease runs out (3 s here, 30 s by default); jobs a
 * crash left under the old six-hour expiry are recovered when a subscriber starts.
 */
describe('embedded bus leases', () => {
  const lease = { leaseSeconds: 3, stopTimeoutMs: 2000 };
  const busFor = (topicPrefix: string) =>
    createEmbeddedBus({ connectionString: databaseUrl as string, topicPrefix, logger, lease });
  const envelope = (id: string): BusMessage => ({ id, key: 'k', type: 't', payload: { n: 1 }, headers: {} });
  const nextDelivery = (bus: Bus, topic: string) =>
    new Promise<{ message: DeliveredMessage; at: number }>((resolve) => {
      void bus.subscribe(topic, 'g', async (message) => resolve({ message, at: performance.now() }));
    });

  test('a clean stop hands the running job back at once, without counting an attempt', async () => {
    const first = await busFor('lease-stop.');
    const stopped = new AbortController();
    let started!: () => void;
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const subscription = await first.subscribe('t', 'g', async () => {
      started();
      // A handler that honours the process's shutdown, as the worker's does.
      await new Promise((_, reject) =>
        stopped.signal.addEventListener('abort', () => reject(new Error('stopped'))),
      );
    });
    await first.publish('t', [envelope(randomUUID())]);
    await running;
    stopped.abort();
    await subscription.stop();
    await first.close();

    const second = await busFor('lease-stop.');
    try {
      const since = performance.now();
      const { message, at } = await nextDelivery(second, 't');
      assert.equal(message.attempt, 1, 'the interrupted run is not counted');
      console.log(
        `handed back on stop: delivered again ${Math.round(at - since)} ms after the next subscribe`,
      );
    } finally {
      await second.close();
    }
  });

  test('a killed process’s job is delivered again once its lease runs out', { timeout: 60_000 }, async () => {
    const id = randomUUID();
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, 'test-abandoning-subscriber.ts'),
        databaseUrl as string,
        'lease-kill.',
        't',
        '3',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(line));
    const printed = async (start: string) => {
      while (!lines.some((line) => line.startsWith(start))) await sleep(50);
    };
    const survivor = await busFor('lease-kill.');
    try {
      await printed('subscribed');
      await survivor.publish('t', [envelope(id)]);
      await printed(`took ${id} 1`);
      // Renewed past its first lease, so only the kill ends it.
      await sleep(lease.leaseSeconds * 1000 + 500);
      child.kill('SIGKILL');
      await once(child, 'exit');
      const killedAt = performance.now();
      const { message, at } = await nextDelivery(survivor, 't');
      assert.equal(message.id, id);
      assert.equal(message.attempt, 2, 'the crashed run counts: the job may be what crashed it');
      const seconds = (at - killedAt) / 1000;
      console.log(
        `killed subscriber (lease ${lease.leaseSeconds} s): job delivered again after ${seconds.toFixed(1)} s`,
      );
      assert.ok(
        seconds < lease.leaseSeconds * 4 + 5,
        `redelivered within the lease's bound, took ${seconds} s`,
      );
    } finally {
      child.kill('SIGKILL');
      await survivor.close();
    }
  });

  test('a job a crash left active under the old six-hour expiry is recovered by the next subscriber', async () => {
    const bus = await busFor('lease-legacy.');
    const id = randomUUID();
    try {
      const queue = 'lease-legacy.t.g';
      // The queue exists with its subscription; then the job is made to look like the attacker's leftovers.
      await (await bus.subscribe('t', 'g', () => new Promise(() => {}))).stop();
      await bus.publish('t', [envelope(id)]);
      const pool = new pg.Pool({ connectionString: databaseUrl });
      try {
        await pool.query(
          `update bus.job set state = 'active', started_on = now() - interval '1 minute', expire_seconds = 21600
            where name = $1`,
          [queue],
        );
      } finally {
        await pool.end();
      }
      const since = performance.now();
      const { message, at } = await nextDelivery(bus, 't');
      assert.equal(message.id, id);
      console.log(`legacy orphan recovered after ${((at - since) / 1000).toFixed(1)} s`);
    } finally {
      await bus.close();
    }
  });
});

/**
 * A message published by one process reaches another process's idle subscriber when it is published, not at
 * that subscriber's next poll: the relay's optimize requests for the workers, the workers' results for the API.
 */
describe('embedded bus wake-up', () => {
  test('a publish in another process wakes an idle subscriber', { timeout: 30_000 }, async () => {
    // Polls an hour apart: only the publisher's notification can deliver within the test's time.
    const subscriber = await createEmbeddedBus({
      connectionString: databaseUrl as string,
      topicPrefix: 'wake.',
      logger,
      idlePollMs: 3_600_000,
    });
    const publisher = await createEmbeddedBus({
      connectionString: databaseUrl as string,
      topicPrefix: 'wake.',
      logger,
    });
    try {
      const delivered: string[] = [];
      const waiters = new Map<string, () => void>();
      await subscriber.subscribe(
        't',
        'g',
        async (message) => {
          delivered.push(message.id);
          waiters.get(message.id)?.();
        },
        { concurrency: 2 },
      );
      for (const id of [randomUUID(), randomUUID()]) {
        // Both fetch loops have found the queue empty and sleep.
        await sleep(300);
        const arrived = new Promise<void>((resolve) => waiters.set(id, resolve));
        const since = performance.now();
        await publisher.publish('t', [{ id, key: 'k', type: 't', payload: {}, headers: {} }]);
        await arrived;
        console.log(`published by another bus: delivered after ${Math.round(performance.now() - since)} ms`);
      }
      assert.equal(delivered.length, 2);
    } finally {
      await publisher.close();
      await subscriber.close();
    }
  });
});
