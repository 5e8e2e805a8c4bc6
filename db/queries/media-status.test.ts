// transitionMedia is every status move's compare-and-set (gate, results, delete, takedown, expiry, dead
// letters): the lock, the move's record and its announcement share one transaction, and a media found
// elsewhere is left alone with nothing recorded. On the real migrations in embedded PostgreSQL.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import { connectDatabase, type DatabaseHandle } from '../client.ts';
import { migrateDatabase } from '../migrate.ts';
import { transitionMedia } from './media-status.ts';

let dir: string;
let pg: PostgresHandle;
let database: DatabaseHandle;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-media-status-'));
  pg = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), durable: false });
  database = connectDatabase(pg.url);
  await migrateDatabase(database.db);
});
after(async () => {
  await database?.close();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function mediaIn(status: string): Promise<string> {
  const id = randomUUID();
  await database.pool.query(
    `insert into media (id, owner_id, kind, status, bucket, object_key, filename, content_type, size_bytes)
     values ($1, 'alice', 'image', $2, 'b', $3, 'p.jpg', 'image/jpeg', 1)`,
    [id, status, `raw/${id}`],
  );
  return id;
}

async function history(mediaId: string) {
  const events = await database.pool.query(
    'select from_status, to_status, actor, detail from media_event where media_id = $1 order by id',
    [mediaId],
  );
  const announced = await database.pool.query(
    `select event_type, payload from outbox where aggregate_id = $1 and topic = 'lifecycle' order by seq`,
    [mediaId],
  );
  return { events: events.rows, announced: announced.rows };
}

const variant = { quality: 'high', format: 'webp', width: 1440, height: 1080, bytes: 1000 };

test('a move from the expected status patches the row, records the move once and announces a settled status', async () => {
  const id = await mediaIn('processing');
  const row = await database.db.transaction((tx) =>
    transitionMedia(tx, {
      mediaId: id,
      from: 'processing',
      to: 'ready',
      variants: [variant],
      actor: 'worker',
      detail: { requestId: 'r1', quote: `it's "ok"` },
      patch: { displayKey: 'derived/high.webp' },
    }),
  );
  assert.equal(row?.status, 'ready');
  assert.equal(row?.displayKey, 'derived/high.webp');
  const { events, announced } = await history(id);
  assert.deepEqual(events, [
    {
      from_status: 'processing',
      to_status: 'ready',
      actor: 'worker',
      detail: { requestId: 'r1', quote: `it's "ok"` },
    },
  ]);
  assert.equal(announced.length, 1);
  assert.equal(announced[0].event_type, 'media.ready');
  assert.deepEqual(announced[0].payload.data.variants, [variant]);
});

test('from several statuses, the record names the one the media was in; a move without detail records none', async () => {
  const id = await mediaIn('failed');
  await database.db.transaction((tx) =>
    transitionMedia(tx, {
      mediaId: id,
      from: ['processing', 'ready', 'failed'],
      to: 'processing',
      actor: 'ops',
    }),
  );
  const { events, announced } = await history(id);
  assert.deepEqual(events, [{ from_status: 'failed', to_status: 'processing', actor: 'ops', detail: null }]);
  assert.deepEqual(announced, [], 'processing is not a settled status');
});

test('a media elsewhere is left as it was: no move, no record, no announcement', async () => {
  const id = await mediaIn('deleted');
  const row = await database.db.transaction((tx) =>
    transitionMedia(tx, { mediaId: id, from: 'processing', to: 'failed', actor: 'worker' }),
  );
  assert.equal(row, undefined);
  const status = await database.pool.query('select status from media where id = $1', [id]);
  assert.equal(status.rows[0].status, 'deleted');
  assert.deepEqual(await history(id), { events: [], announced: [] });
  assert.equal(
    await database.db.transaction((tx) =>
      transitionMedia(tx, { mediaId: randomUUID(), from: 'processing', to: 'failed', actor: 'worker' }),
    ),
    undefined,
    'an unknown media',
  );
});

test('two racing moves from the same status: the one that waited for the lock finds the new status and records nothing', async () => {
  const id = await mediaIn('processing');
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let moved!: () => void;
  const first = database.db.transaction(async (tx) => {
    const row = await transitionMedia(tx, {
      mediaId: id,
      from: 'processing',
      to: 'ready',
      variants: [],
      actor: 'worker',
    });
    moved();
    await held;
    return row;
  });
  await new Promise<void>((resolve) => {
    moved = resolve;
  });
  // The first holds the row's lock until it commits: this one waits, then sees `ready`.
  const second = database.db.transaction((tx) =>
    transitionMedia(tx, { mediaId: id, from: 'processing', to: 'deleted', by: 'owner', actor: 'alice' }),
  );
  while (
    (await database.pool.query(`select 1 from pg_stat_activity where wait_event_type = 'Lock'`)).rowCount ===
    0
  )
    await new Promise((resolve) => setTimeout(resolve, 20));
  release();
  assert.equal((await first)?.status, 'ready');
  assert.equal(await second, undefined);
  const { events, announced } = await history(id);
  assert.deepEqual(
    events.map((e) => e.to_status),
    ['ready'],
  );
  assert.deepEqual(
    announced.map((a) => a.event_type),
    ['media.ready'],
  );
});
