import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { readOutboxBacklog } from '../api/outbox/backlog.ts';
import { freePort } from '../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import { connectDatabase, type DatabaseHandle } from './client.ts';
import { migrateDatabase } from './migrate.ts';
import {
  enqueueEvents,
  markPublished,
  outboxChannel,
  readUnpublished,
  stampPublished,
} from './queries/outbox.ts';

/**
 * What the relay sends is what `outbox_pending` lists. An upgrade must carry every event that was waiting
 * over into it, every writer's rows must be listed (an api of the previous release inserting plain rows
 * during a rolling upgrade too), and the backlog metric must read its count and oldest age from it.
 */
let dir: string;
let postgres: PostgresHandle;
let database: DatabaseHandle;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-outbox-pending-'));
  postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    durable: false,
  });
  database = connectDatabase(postgres.url);
});
after(async () => {
  await database?.close();
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A copy of the committed migrations that stops before `tag`: the schema as a deployment had it. */
async function migrationsBefore(tag: string): Promise<string> {
  const target = join(dir, `migrations-before-${tag}`);
  await cp(fileURLToPath(new URL('./migrations', import.meta.url)), target, { recursive: true });
  const journalPath = join(target, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((e) => e.tag === tag);
  assert.ok(cut > 0, `migration ${tag} exists`);
  journal.entries = journal.entries.slice(0, cut);
  await writeFile(journalPath, JSON.stringify(journal));
  return target;
}

/** An outbox row as any writer inserts it, `age` seconds old, published or not. */
async function insertPlainRow(
  options: { published?: boolean; ageSeconds?: number; pool?: pg.Pool } = {},
): Promise<string> {
  const id = randomUUID();
  await (options.pool ?? database.pool).query(
    `insert into outbox (id, aggregate_id, topic, event_type, payload, headers, traceparent, created_at, published_at)
     values ($1, $2, 'plain', 'plain.test', '{"n": 1}', $3, $4, now() - make_interval(secs => $5),
             case when $6 then now() end)`,
    [
      id,
      randomUUID(),
      { 'event-id': id, 'replay-of': randomUUID() },
      `00-${randomUUID().replaceAll('-', '')}-0123456789abcdef-01`,
      options.ageSeconds ?? 0,
      options.published ?? false,
    ],
  );
  return id;
}

const pendingIds = async () =>
  (await database.pool.query<{ id: string }>('select id from outbox_pending order by seq')).rows.map(
    (r) => r.id,
  );

test('an upgrade lists every unpublished event as pending, in seq order, and no published one', async () => {
  await migrate(database.db, { migrationsFolder: await migrationsBefore('0008_outbox_pending') });
  const waiting = [await insertPlainRow(), await insertPlainRow()];
  await insertPlainRow({ published: true });
  waiting.push(await insertPlainRow());
  await migrateDatabase(database.db);

  assert.deepEqual(await pendingIds(), waiting);
  const session = new pg.Client({ connectionString: postgres.url });
  await session.connect();
  try {
    const rows = await readUnpublished(session, 10, []);
    assert.deepEqual(
      rows.map((r) => r.id),
      waiting,
      'the relay reads the carried-over events',
    );
    await markPublished(
      session,
      rows.map((r) => r.seq),
    );
  } finally {
    await session.end();
  }
  assert.deepEqual(await pendingIds(), []);
});

test('an upgrade from 0008 copies into each pending row what the relay sends, and stamps what it marks', async () => {
  const url = new URL(postgres.url);
  url.pathname = '/upgrade_0009';
  await database.pool.query('create database upgrade_0009');
  const upgraded = connectDatabase(url.toString());
  const session = new pg.Client({ connectionString: url.toString() });
  try {
    await migrate(upgraded.db, { migrationsFolder: await migrationsBefore('0009_outbox_pending_payloads') });
    const waiting = [
      await insertPlainRow({ pool: upgraded.pool }),
      await insertPlainRow({ pool: upgraded.pool }),
    ];
    await insertPlainRow({ pool: upgraded.pool, published: true });
    await migrateDatabase(upgraded.db);
    waiting.push(await insertPlainRow({ pool: upgraded.pool }));

    const { rows: expected } = await upgraded.pool.query(
      `select seq::text, id, aggregate_id, topic, event_type, payload::text, headers, traceparent
         from outbox where id = any($1) order by seq`,
      [waiting],
    );
    await session.connect();
    const rows = await readUnpublished(session, 10, []);
    assert.deepEqual(rows, expected, 'carried-over and new rows read whole from pending');
    await markPublished(
      session,
      rows.map((r) => r.seq),
    );
    await stampPublished(session);
    const { rows: left } = await upgraded.pool.query(
      'select (select count(*)::int from outbox_pending) as pending, count(*)::int as unstamped from outbox where published_at is null',
    );
    assert.deepEqual(left, [{ pending: 0, unstamped: 0 }]);
  } finally {
    await session.end().catch(() => {});
    await upgraded.close();
  }
});

test('a plain insert, as a previous release writes it, is listed pending and wakes the relay', async () => {
  const listener = new pg.Client({ connectionString: postgres.url });
  await listener.connect();
  try {
    await listener.query(`listen ${outboxChannel}`);
    const woken = new Promise<void>((resolve) => listener.once('notification', () => resolve()));
    const id = await insertPlainRow();
    await woken;
    assert.deepEqual(await pendingIds(), [id]);
    const written = await database.db.transaction((tx) =>
      enqueueEvents(tx, [
        { aggregateId: randomUUID(), topic: 'plain', eventType: 'plain.test', payload: { n: 2 } },
        { aggregateId: randomUUID(), topic: 'plain', eventType: 'plain.test', payload: { n: 3 } },
      ]),
    );
    assert.deepEqual(await pendingIds(), [id, ...written], 'enqueued events follow in seq order');
  } finally {
    await listener.end();
  }
});

test('the backlog counts pending events and ages the earliest written, whatever its seq', async () => {
  await database.pool.query('delete from outbox_pending');
  assert.deepEqual(await readOutboxBacklog(database.db), { events: 0, oldestAgeSeconds: 0 });
  // A later seq written by a transaction that started earlier (its rows carry the start time).
  await insertPlainRow({ ageSeconds: 5 });
  await insertPlainRow({ ageSeconds: 300 });
  await insertPlainRow({ ageSeconds: 300, published: true });
  const backlog = await readOutboxBacklog(database.db);
  assert.equal(backlog.events, 2, 'a published row is not counted even if it has no pending entry');
  assert.ok(backlog.oldestAgeSeconds >= 300 && backlog.oldestAgeSeconds < 330, `${backlog.oldestAgeSeconds}`);
});
