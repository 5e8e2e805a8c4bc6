import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { pino } from 'pino';
import { freePort } from '../../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import type { BusMessage } from './bus.ts';
import { createEmbeddedBus } from './embedded-bus.ts';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'silent' });
let dir: string | undefined;
let postgres: PostgresHandle | undefined;
let databaseUrl = process.env.DATABASE_URL as string;

/** pg-boss's fetch statement names its queue inline; counted as every pg client in this process sends it. */
const fetchesOf = new Map<string, number>();
const query = pg.Client.prototype.query;

before(async () => {
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    const queue = text?.includes('WITH next as') ? /name = '([^']+)'/.exec(text)?.[1] : undefined;
    if (queue) fetchesOf.set(queue, (fetchesOf.get(queue) ?? 0) + 1);
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  if (databaseUrl) return;
  dir = await mkdtemp(join(tmpdir(), 'mediagate-embedded-loops-'));
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
  pg.Client.prototype.query = query;
  await postgres?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const envelope = (): BusMessage => ({ id: randomUUID(), key: 'k', type: 't', payload: {}, headers: {} });

async function waitFor(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * A subscription's fetch loops: idle, they ask PostgreSQL once per poll interval between them, not once each
 * (the webhook fan-out runs 16); busy, a burst still runs as wide as the concurrency; a message whose
 * notification never came is still found, by whichever loop is idle.
 */
describe('embedded bus fetch loops', () => {
  test('a burst of N messages runs N-wide, and close() drains every running handler', async () => {
    const width = 8;
    const bus = await createEmbeddedBus({ connectionString: databaseUrl, topicPrefix: 'burst.', logger });
    let active = 0;
    let widest = 0;
    let finished = 0;
    try {
      await bus.subscribe(
        't',
        'g',
        async () => {
          active += 1;
          widest = Math.max(widest, active);
          // Each handler holds its loop until all have started (or a generous while, so a failure reports).
          await waitFor(() => widest === width, 'every loop busy', 10_000).catch(() => {});
          await sleep(300);
          active -= 1;
          finished += 1;
        },
        { concurrency: width },
      );
      // Every loop has looked once and sleeps.
      await sleep(300);
      await bus.publish(
        't',
        Array.from({ length: width }, () => envelope()),
      );
      await waitFor(() => widest === width || finished > 0, 'the burst under way');
    } finally {
      await bus.close();
    }
    assert.equal(widest, width, 'handlers running at once');
    assert.equal(finished, width, 'close() returned with every handler finished');
  });

  test('an idle subscription of 16 loops fetches about once per poll interval', async () => {
    const pollMs = 200;
    const intervals = 5;
    const bus = await createEmbeddedBus({
      connectionString: databaseUrl,
      topicPrefix: 'idle.',
      logger,
      idlePollMs: pollMs,
    });
    try {
      await bus.subscribe('t', 'g', async () => {}, { concurrency: 16 });
      // The loops' first looks at the empty queue, counted whatever the machine's load makes them take.
      await waitFor(() => (fetchesOf.get('idle.t.g') ?? 0) >= 16, "every loop's first look");
      const before = fetchesOf.get('idle.t.g') ?? 0;
      await sleep(pollMs * intervals);
      const fetches = (fetchesOf.get('idle.t.g') ?? 0) - before;
      console.log(`16 idle loops, ${intervals} poll intervals: ${fetches} fetch statements`);
      // One loop per interval, with slack for an interval straddling the window's edges; 16 per interval before.
      assert.ok(fetches <= intervals + 2, `${fetches} fetches in ${intervals} poll intervals`);

      // One message published while idle costs one fetch to claim it and the look its loop takes after it (and
      // perhaps a poll that falls in the window); no other loop is woken for it.
      let delivered = 0;
      await bus.subscribe(
        'one',
        'g',
        async () => {
          delivered += 1;
        },
        { concurrency: 16 },
      );
      await waitFor(() => (fetchesOf.get('idle.one.g') ?? 0) >= 16, "every loop's first look");
      await sleep(pollMs / 2);
      const start = fetchesOf.get('idle.one.g') ?? 0;
      await bus.publish('one', [envelope()]);
      await waitFor(() => delivered === 1, 'the message');
      await sleep(50);
      const forOne = (fetchesOf.get('idle.one.g') ?? 0) - start;
      console.log(`one message to 16 idle loops: ${forOne} fetch statements`);
      assert.ok(forOne <= 3, `${forOne} fetches for one message`);
    } finally {
      await bus.close();
    }
  });

  test('a message published without a notification is found by polling while another loop runs a long job', async () => {
    const bus = await createEmbeddedBus({
      connectionString: databaseUrl,
      topicPrefix: 'lost.',
      logger,
      idlePollMs: 200,
    });
    // A publisher outside the bus: it fills the queue and notifies nobody.
    const silent = new PgBoss({
      connectionString: databaseUrl,
      schema: 'bus',
      schedule: false,
      supervise: false,
    });
    await silent.start();
    const long = envelope();
    const quiet = envelope();
    const delivered: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await bus.subscribe(
        't',
        'g',
        async (message) => {
          delivered.push(message.id);
          if (message.id === long.id) await held;
        },
        { concurrency: 2 },
      );
      await bus.publish('t', [long]);
      await waitFor(() => delivered.includes(long.id), 'the long job started');
      await silent.send('lost.t.g', { ...quiet });
      await waitFor(() => delivered.includes(quiet.id), 'the un-notified message');
      assert.deepEqual(delivered, [long.id, quiet.id], 'found while the long job still ran');
    } finally {
      release();
      await silent.stop({ graceful: false, wait: true });
      await bus.close();
    }
  });
});
