import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { startRelay } from '../../api/outbox/relay.ts';
import { enqueueEvents } from '../../db/queries/outbox.ts';
import type { Bus, DeliveredMessage } from '../../platform/bus/bus.ts';
import { isDatabaseUnavailable } from '../../platform/http/database-errors.ts';
import { type InProcessApi, startInProcessApi } from '../in-process.ts';

/**
 * A failover or `pg_terminate_backend` ends every session at once: pooled, checked out between two
 * queries of a transaction, or dedicated (the relay's LISTEN session, the embedded bus). None may take the
 * process down, and a request caught in flight is told to retry (503 + Retry-After), never 500.
 */
let api: InProcessApi;
let admin: pg.Client;

before(async () => {
  api = await startInProcessApi();
  admin = new pg.Client({ connectionString: api.databaseUrl });
  await admin.connect();
});
after(async () => {
  await admin?.end();
  await api?.stop();
});

/** Ends every other session on the database, as an administrator or a failover would. */
async function terminateBackends(filter = 'true'): Promise<number> {
  const { rowCount } = await admin.query(
    `select pg_terminate_backend(pid) from pg_stat_activity
      where pid <> pg_backend_pid() and datname = current_database() and ${filter}`,
  );
  return rowCount ?? 0;
}

describe('losing the database connection', () => {
  test('a transaction whose connection dies between two queries fails as "database unavailable"; the process lives', async () => {
    for (let round = 0; round < 5; round++) {
      const outcome = await api.database.db
        .transaction(async (tx) => {
          await tx.execute(sql`select 1`);
          // The client is checked out of the pool and idle: the server's goodbye arrives as an 'error' event.
          await terminateBackends();
          await sleep(100);
          await tx.execute(sql`select 1`);
          return 'committed';
        })
        .catch((error: unknown) => error);
      assert.notEqual(outcome, 'committed');
      assert.ok(isDatabaseUnavailable(outcome), `round ${round}: ${String(outcome)}`);
    }
    const [row] = (await api.database.db.execute(sql`select 1 as one`)).rows;
    assert.equal(row?.one, 1, 'the pool hands out fresh connections afterwards');
  });

  test('a request whose query is in flight when its session is terminated answers 503 database_unavailable with Retry-After', async () => {
    const user = 'db-loss-reader';
    // Hold the media table so the gallery query is provably in flight when its session is ended.
    const locker = new pg.Client({ connectionString: api.databaseUrl });
    await locker.connect();
    try {
      await locker.query('begin');
      await locker.query('lock table media in access exclusive mode');
      const pending = api.call(user, { method: 'GET', url: '/v1/media?owner=me' });
      while ((await terminateBackends(`wait_event_type = 'Lock' and pid <> ${await pidOf(locker)}`)) === 0) {
        await sleep(20);
      }
      const response = await pending;
      assert.equal(response.statusCode, 503, response.body);
      assert.equal(response.json().code, 'database_unavailable');
      assert.equal(response.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.ok(Number(response.headers['retry-after']) > 0);
    } finally {
      await locker.end();
    }
    const again = await api.call(user, { method: 'GET', url: '/v1/media?owner=me' });
    assert.equal(again.statusCode, 200, again.body);
  });

  test('requests racing repeated terminations get their answer or a 503, never a 500, and the API serves after', async () => {
    const user = 'db-loss-writer';
    const statuses = new Map<number, number>();
    for (let round = 0; round < 6; round++) {
      const requests = Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? api.call(user, {
              method: 'POST',
              url: '/v1/uploads',
              payload: { filename: `r${round}-${i}.jpg`, contentType: 'image/jpeg', size: 1000 },
            })
          : api.call(user, { method: 'GET', url: '/v1/media?owner=me' }),
      );
      await sleep(round * 3);
      await terminateBackends();
      for (const response of await Promise.all(requests)) {
        statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
        assert.ok([200, 201, 503].includes(response.statusCode), `${response.statusCode}: ${response.body}`);
        if (response.statusCode === 503) {
          assert.equal(response.json().code, 'database_unavailable', response.body);
          assert.ok(response.headers['retry-after']);
        }
      }
    }
    console.log('statuses under terminations', Object.fromEntries(statuses));
    const created = await api.call(user, {
      method: 'POST',
      url: '/v1/uploads',
      payload: { filename: 'after.jpg', contentType: 'image/jpeg', size: 1000 },
    });
    assert.equal(created.statusCode, 201, created.body);
  });

  test('the outbox relay and the embedded bus lose their sessions and carry on', async () => {
    const bus = api.ctx.deadLetters as unknown as Bus;
    const received: DeliveredMessage[] = [];
    const subscription = await bus.subscribe('db-loss.probe', 'probe', async (m) => {
      received.push(m);
    });
    const relay = startRelay({
      connectionString: api.databaseUrl,
      bus,
      logger: api.ctx.logger,
      pollIntervalMs: 100,
    });
    try {
      for (let round = 0; round < 3; round++) {
        await terminateBackends();
        const [id] = await retryWhileUnavailable(() =>
          enqueueEvents(api.database.db, [
            {
              aggregateId: crypto.randomUUID(),
              topic: 'db-loss.probe',
              eventType: 'probe',
              payload: { round },
            },
          ]),
        );
        const deadline = Date.now() + 30_000;
        while (!received.some((m) => m.id === id)) {
          assert.ok(Date.now() < deadline, `round ${round}: the event was not relayed after the termination`);
          await sleep(50);
        }
      }
    } finally {
      await relay.stop();
      await subscription.stop();
    }
  });
});

async function pidOf(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
  return rows[0]?.pid ?? -1;
}

/**
 * What a client told "503, retry" does: the pool may still hold sessions whose goodbye is in transit (one per
 * idle client on a busy machine), so it retries a few times, briefly.
 */
async function retryWhileUnavailable<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || attempt >= 10) throw error;
      await sleep(50);
    }
  }
}
