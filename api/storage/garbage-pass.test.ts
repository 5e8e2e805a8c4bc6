import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { connectDatabase, type DatabaseHandle } from '../../db/client.ts';
import { migrateDatabase } from '../../db/migrate.ts';
import { queueForDeletion } from '../../db/queries/object-refs.ts';
import { lockVerifiedTwin } from '../../db/queries/twins.ts';
import { media, mediaVariant } from '../../db/schema.ts';
import { freePort } from '../../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import { type EmbeddedS3, startEmbeddedS3 } from '../../deploy/s3/embedded/server.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import { createS3Storage } from '../../platform/storage/s3-storage.ts';
import { sweepStorageGarbage } from './garbage-pass.ts';

/**
 * The interleavings an HTTP test cannot force, forced here with explicit transactions against a real
 * PostgreSQL and S3 server: a sweep meeting a delete in flight, and a sweep meeting a copy in flight.
 */

let dir: string;
let pg: PostgresHandle;
let s3: EmbeddedS3;
let database: DatabaseHandle;
let storage: ObjectStorage;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-sweep-'));
  pg = await startEmbeddedPostgres({ dataDir: join(dir, 'pg'), port: await freePort(), durable: false });
  database = connectDatabase(pg.url);
  await migrateDatabase(database.db);
  const credentials = { accessKeyId: 'AKIDSWEEPTEST', secretAccessKey: 'sweep-secret-0123456789' };
  s3 = await startEmbeddedS3({ dataDir: join(dir, 's3'), ...credentials });
  storage = createS3Storage({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    bucket: 'sweep-test',
    forcePathStyle: true,
    ...credentials,
  });
  await storage.ensureBucket();
});
after(async () => {
  await database?.close();
  await s3?.stop();
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A ready media holding `key`, whose object exists, with the key already queued by an earlier delete. */
async function sharedObject(sha256: string) {
  const id = randomUUID();
  const key = `raw/${id}/${randomUUID()}`;
  await storage.put(key, Buffer.from('bytes'), 'image/jpeg', 5);
  await database.db.insert(media).values({
    id,
    ownerId: 'alice',
    kind: 'image',
    status: 'ready',
    bucket: storage.bucket,
    objectKey: key,
    filename: 'a.jpg',
    contentType: 'image/jpeg',
    sizeBytes: 5,
    sha256,
  });
  await queueForDeletion(database.db, [key]);
  return { id, key };
}

function tracked<T>(promise: Promise<T>) {
  const state = { settled: false, promise };
  promise.finally(() => {
    state.settled = true;
  });
  return state;
}

/** A delete's transaction, left open after it retired the media and tried to queue its key. */
async function openDelete(mediaId: string, key: string) {
  const client = await database.pool.connect();
  await client.query('begin');
  await client.query('select 1 from media where id = $1 for update', [mediaId]);
  await client.query(`update media set status = 'deleted' where id = $1`, [mediaId]);
  await client.query(
    'insert into storage_garbage (object_key, delete_after) values ($1, now()) on conflict do nothing',
    [key],
  );
  return {
    async commit() {
      await client.query('commit');
      client.release();
    },
  };
}

test('a sweep that meets a delete in flight waits for it, then removes the object it freed', async () => {
  const shared = await sharedObject('a'.repeat(64));
  // The delete's own queue insert met the sweep's queue row and did nothing: only waiting saves the key.
  const deleting = await openDelete(shared.id, shared.key);
  const pass = tracked(sweepStorageGarbage(database.db, storage));
  await sleep(300);
  assert.equal(pass.settled, false, 'the sweep waits for the delete');
  await deleting.commit();
  assert.deepEqual(await pass.promise, { deleted: 1, kept: 0 });
  assert.equal(await storage.head(shared.key), undefined);
});

test('a copy in flight holds the sweep off; afterwards the object stays with the copy', async () => {
  const sha256 = 'b'.repeat(64);
  const source = await sharedObject(sha256);
  const copyId = randomUUID();
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  let twinLocked = () => {};
  const locked = new Promise<void>((r) => {
    twinLocked = r;
  });
  const copying = database.db.transaction(async (tx) => {
    const twin = await lockVerifiedTwin(tx, { ownerId: 'alice', sha256 });
    assert.ok(twin);
    twinLocked();
    await released;
    await tx.insert(media).values({ ...twin.row, id: copyId });
  });
  await locked;

  const pass = tracked(sweepStorageGarbage(database.db, storage));
  // A delete of the source, as `transitionMedia` does it: it must wait for the copy to commit.
  const deleting = tracked(openDelete(source.id, source.key).then((d) => d.commit()));
  await sleep(300);
  assert.equal(pass.settled, false, 'the sweep waits for the copy');
  assert.equal(deleting.settled, false, 'the delete waits for the copy');
  release();
  await copying;
  await deleting.promise;
  assert.deepEqual(await pass.promise, { deleted: 0, kept: 1 });
  assert.ok(await storage.head(source.key), 'the copy still reads its object');

  await database.db.update(media).set({ status: 'deleted' }).where(eq(media.id, copyId));
  await queueForDeletion(database.db, [source.key]);
  assert.deepEqual(await sweepStorageGarbage(database.db, storage), { deleted: 1, kept: 0 });
  assert.equal(await storage.head(source.key), undefined);
});

test('a chunked video’s segments stay while a live copy holds its HLS master, and go with the last holder', async () => {
  const original = await sharedObject('c'.repeat(64));
  const copyId = randomUUID();
  const master = `derived/${original.id}/${randomUUID()}/hls/master.m3u8`;
  const segment = master.replace('master.m3u8', 'low/0.ts');
  await storage.put(segment, Buffer.from('ts'), 'video/mp2t', 2);
  const [row] = await database.db.select().from(media).where(eq(media.id, original.id));
  assert.ok(row);
  await database.db.insert(media).values({ ...row, id: copyId });
  await database.db.insert(mediaVariant).values({
    mediaId: copyId,
    quality: 'hls',
    format: 'm3u8',
    objectKey: master,
    width: null,
    height: null,
    bytes: 1,
  });
  // The original deleted: its segments are queued, as retireMedia queues a chunked video's.
  await database.db.update(media).set({ status: 'deleted' }).where(eq(media.id, original.id));
  await queueForDeletion(database.db, [segment]);
  assert.deepEqual(await sweepStorageGarbage(database.db, storage), { deleted: 0, kept: 2 });
  assert.ok(await storage.head(segment), 'the copy still plays its twin’s segments');

  await database.db.update(media).set({ status: 'deleted' }).where(eq(media.id, copyId));
  await queueForDeletion(database.db, [segment]);
  assert.deepEqual(await sweepStorageGarbage(database.db, storage), { deleted: 1, kept: 0 });
  assert.equal(await storage.head(segment), undefined);
});
