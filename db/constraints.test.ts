import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { freePort } from '../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import { connectDatabase, type DatabaseHandle } from './client.ts';
import { migrateDatabase } from './migrate.ts';

/**
 * The database is the last line against a value the code cannot read: a media whose `kind` was written
 * through the prototype-key hole broke its owner's gallery and the ops stats for everyone. These tests
 * run the real migrations on embedded PostgreSQL.
 */
let dir: string;
let pg: PostgresHandle;
let database: DatabaseHandle;
const poisonedKind = 'function Object() { [native code] }';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-constraints-'));
  pg = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), durable: false });
  database = connectDatabase(pg.url);
});
after(async () => {
  await database?.close();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A copy of the committed migrations that stops before `tag`: the schema as a deployment had it. */
async function migrationsBefore(tag: string): Promise<string> {
  const source = fileURLToPath(new URL('./migrations', import.meta.url));
  const target = join(dir, `migrations-before-${tag}`);
  await cp(source, target, { recursive: true });
  const journalPath = join(target, 'meta', '_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: { tag: string }[] };
  const cut = journal.entries.findIndex((e) => e.tag === tag);
  assert.ok(cut > 0, `migration ${tag} exists`);
  journal.entries = journal.entries.slice(0, cut);
  await writeFile(journalPath, JSON.stringify(journal));
  return target;
}

const insertMedia = (id: string, kind: string, objectKey: string) =>
  database.pool.query(
    `insert into media (id, owner_id, kind, status, bucket, object_key, filename, content_type, size_bytes)
     values ($1, 'alice', $2, 'processing', 'b', $3, 'x', 'constructor', 1)`,
    [id, kind, objectKey],
  );

test('a deployment holding a poisoned media migrates: the row is removed, its objects queued, the rest kept', async () => {
  await migrate(database.db, { migrationsFolder: await migrationsBefore('0004_constraints') });
  const poisoned = randomUUID();
  const healthy = randomUUID();
  await insertMedia(poisoned, poisonedKind, `raw/${poisoned}/a`);
  await insertMedia(healthy, 'image', `raw/${healthy}/b`);
  await database.pool.query(
    `insert into media_variant (media_id, quality, format, object_key, bytes)
     values ($1, 'low', 'webp', $2, 1)`,
    [poisoned, `derived/${poisoned}/r/low.webp`],
  );

  await migrateDatabase(database.db);

  const { rows: left } = await database.pool.query<{ id: string }>('select id from media');
  assert.deepEqual(
    left.map((r) => r.id),
    [healthy],
  );
  const { rows: garbage } = await database.pool.query<{ object_key: string }>(
    'select object_key from storage_garbage order by object_key',
  );
  assert.deepEqual(
    garbage.map((r) => r.object_key),
    [`derived/${poisoned}/r/low.webp`, `raw/${poisoned}/a`],
  );
  const { rows: history } = await database.pool.query<{ actor: string; to_status: string }>(
    'select actor, to_status from media_event where media_id = $1',
    [poisoned],
  );
  assert.deepEqual(history, [{ actor: 'migration:0004_constraints', to_status: 'deleted' }]);
});

test('the database refuses a kind, status, visibility or session state the code has no branch for', async () => {
  await migrateDatabase(database.db);
  const refused = (query: Promise<unknown>) =>
    assert.rejects(query, (error: { code?: string }) => error.code === '23514');
  await refused(insertMedia(randomUUID(), poisonedKind, 'raw/x/1'));
  await refused(insertMedia(randomUUID(), 'constructor', 'raw/x/2'));
  const id = randomUUID();
  await insertMedia(id, 'video', 'raw/x/3');
  await refused(database.pool.query(`update media set status = 'toString' where id = $1`, [id]));
  await refused(database.pool.query(`update media set visibility = '__proto__' where id = $1`, [id]));
  await refused(
    database.pool.query(
      `insert into upload_session (id, media_id, owner_id, storage_upload_id, object_key, part_size,
         part_count, expires_at, state)
       values ($1, $2, 'alice', 'u', 'raw/x/3', 1, 1, now(), 'constructor')`,
      [randomUUID(), id],
    ),
  );
});
