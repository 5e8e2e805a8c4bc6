import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { sql } from 'drizzle-orm';
import { queueOrphans } from '../api/storage/orphans.ts';
import type { MediaView } from '../contracts/media.ts';
import { connectDatabase, type DatabaseHandle } from '../db/client.ts';
import { loadConfig } from '../platform/config.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import {
  createSession,
  keysOf,
  readThroughEdge,
  sha256,
  stored,
  sweep,
  trace,
  uploadPhoto,
} from './photos.ts';

let platform: Platform;
let database: DatabaseHandle;
const alice = () => apiClient(platform, platform.token('alice'));

before(async () => {
  // Sessions live 4 seconds here, so one test can watch the sweeper expire one.
  // One user creates hundreds of sessions here; the per-user creation limit is another suite's subject.
  platform = await startPlatform({
    env: { UPLOAD_SESSION_TTL_SECONDS: '4', UPLOAD_CREATE_PER_MINUTE: '100000' },
  });
  database = connectDatabase(platform.env.DATABASE_URL ?? '');
});
after(async () => {
  await database?.close();
  await platform?.stop();
});

async function copyOf(bytes: Buffer): Promise<MediaView | undefined> {
  const reply = await createSession(alice(), bytes, { sha256: sha256(bytes) });
  if (reply.status === 201) {
    // No copy to share any more: the caller would upload; this test only wants copies.
    assert.equal((await alice().delete(`/v1/uploads/${reply.body.uploadId}`)).status, 204);
    return undefined;
  }
  assert.equal(reply.status, 200, JSON.stringify(reply.body));
  return reply.body.media;
}

async function storedCount(keys: string[]): Promise<number> {
  return (await Promise.all(keys.map((k) => stored(platform, k)))).filter(Boolean).length;
}

describe('reference-counted deletes', () => {
  test('copies deleted concurrently keep the objects while one lives; the last delete takes them', async () => {
    const photo = await makeJpegWithGps(1600, 1200, { lat: 40.4168, lon: -3.7038 });
    const original = await uploadPhoto(alice(), photo);
    assert.equal(original.status, 'ready');
    const copies: MediaView[] = [];
    for (let i = 0; i < 6; i++) copies.push((await copyOf(photo)) as MediaView);
    const keys = keysOf(await trace(platform, original.id));
    const survivor = copies.pop() as MediaView;

    const deletes = await Promise.all([original, ...copies].map((m) => alice().delete(`/v1/media/${m.id}`)));
    assert.deepEqual(
      deletes.map((d) => d.status),
      Array(6).fill(204),
    );
    const kept = await sweep(platform);
    assert.equal(kept.objectsDeleted, 0, JSON.stringify(kept));
    assert.equal(kept.objectsKept, keys.length);
    assert.equal(await storedCount(keys), keys.length);
    for (const v of survivor.variants) {
      const read = await readThroughEdge(v.url);
      assert.equal(read.status, 302, v.quality);
      assert.ok((read.bytes?.length ?? 0) > 0);
    }
    const gallery = await alice().get<{ items: MediaView[] }>('/v1/media?owner=me');
    assert.deepEqual(
      gallery.body.items.map((m) => [m.id, m.position]),
      [[survivor.id, 0]],
    );

    assert.equal((await alice().delete(`/v1/media/${survivor.id}`)).status, 204);
    const gone = await sweep(platform);
    assert.equal(gone.objectsDeleted, keys.length, JSON.stringify(gone));
    assert.equal(await storedCount(keys), 0);
    for (const v of survivor.variants) {
      const read = await readThroughEdge(v.url.split('?')[0] ?? '', platform.token('alice'));
      assert.ok([404, 410].includes(read.status), `${v.quality}: ${read.status}`);
    }
  });

  test('copies made while other copies are deleted and swept never point at a deleted object', async () => {
    const photo = await makeJpegWithGps(1200, 900, { lat: 35.6762, lon: 139.6503 });
    // Each trial races deletes of every live copy against new copies and sweeps until no copy is left.
    for (let trial = 0; trial < 4; trial++) {
      const original = await uploadPhoto(alice(), photo);
      const keys = keysOf(await trace(platform, original.id));
      let live: MediaView[] = [original];
      for (let round = 0; live.length > 0; round++) {
        const outcomes = await Promise.all([
          ...live.map((m) =>
            alice()
              .delete(`/v1/media/${m.id}`)
              .then(() => undefined),
          ),
          ...Array.from({ length: 4 }, () => copyOf(photo)),
          sweep(platform).then(() => undefined),
          sweep(platform).then(() => undefined),
        ]);
        live = outcomes.filter((m): m is MediaView => m !== undefined);
        await sweep(platform);
        for (const m of live) assert.deepEqual(keysOf(await trace(platform, m.id)), keys);
        assert.equal(
          await storedCount(keys),
          live.length > 0 ? keys.length : 0,
          `trial ${trial} round ${round}: ${live.length} live copies`,
        );
      }
    }
  });
});

describe('sweeping what nobody finished', () => {
  test('an expired upload session is aborted in storage and its media leaves the gallery', async () => {
    const photo = await makeJpegWithGps(640, 480, { lat: 1, lon: 2 });
    const before = await createSession(alice(), photo);
    const abandoned = await createSession(alice(), photo, { filename: 'abandoned.jpg' });
    const put = await fetch(abandoned.body.parts[0]?.url ?? '', {
      method: 'PUT',
      body: new Uint8Array(photo),
    });
    assert.equal(put.status, 200);
    const { rows } = await database.db.execute<{ storage_upload_id: string; object_key: string }>(
      sql`select storage_upload_id, object_key from upload_session where id = ${abandoned.body.uploadId}`,
    );
    const session = rows[0];
    assert.ok(session);
    await new Promise((r) => setTimeout(r, 4500));
    const after = await createSession(alice(), photo);

    assert.equal((await sweep(platform)).sessionsExpired, 0, 'a fresh expiry waits out its grace period');
    const report = await sweep(platform, { graceSeconds: 0 });
    assert.equal(report.sessionsExpired, 2, JSON.stringify(report));
    const state = await alice().get<{ state: string }>(`/v1/uploads/${abandoned.body.uploadId}`);
    assert.equal(state.body.state, 'expired');
    assert.equal(await platform.storage.listParts(session.object_key, session.storage_upload_id), undefined);
    assert.equal((await alice().get(`/v1/media/${abandoned.body.mediaId}`)).status, 404);
    const t = await trace(platform, abandoned.body.mediaId);
    assert.deepEqual(t.events.at(-1)?.detail?.reason, 'upload_expired');
    const gallery = await alice().get<{ items: MediaView[] }>('/v1/media?owner=me');
    assert.deepEqual(
      gallery.body.items.map((m) => [m.id, m.position]),
      [[after.body.mediaId, 0]],
      `${before.body.mediaId} expired too; the one made after the deadline stays, at 0`,
    );
  });

  test('stored objects no row references are deleted once old enough; referenced ones stay', async () => {
    const photo = await makeJpegWithGps(640, 480, { lat: 3, lon: 4 });
    const kept = await uploadPhoto(alice(), photo);
    const strays = [
      `raw/${randomUUID()}/${randomUUID()}`,
      `derived/${randomUUID()}/${randomUUID()}/low.webp`,
    ];
    for (const key of strays) await platform.storage.put(key, photo, 'image/jpeg', photo.length);
    const lister = bucketLister();

    assert.equal(await queueOrphans(database.db, lister, 3600), 0, 'young objects are left alone');
    const queued = await queueOrphans(database.db, lister, 0);
    assert.equal(queued, strays.length);
    const report = await sweep(platform);
    assert.equal(report.objectsDeleted, strays.length, JSON.stringify(report));
    for (const key of strays) assert.equal(await stored(platform, key), false);
    const keys = keysOf(await trace(platform, kept.id));
    assert.equal(await storedCount(keys), keys.length);
  });
});

/** What `ObjectStorage.listKeys` should do (ListObjectsV2 pages), until the port has it. */
function bucketLister() {
  const s3 = loadConfig(platform.env).s3;
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials: { accessKeyId: s3.accessKeyId ?? '', secretAccessKey: s3.secretAccessKey ?? '' },
  });
  return {
    async *listKeys(prefix: string) {
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key && o.LastModified) yield { key: o.Key, lastModified: o.LastModified };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
  };
}
