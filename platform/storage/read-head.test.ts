import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EmbeddedS3, startEmbeddedS3 } from '../../deploy/s3/embedded/server.ts';
import { loadConfig } from '../config.ts';
import type { ObjectStorage } from './object-storage.ts';
import { createS3Storage } from './s3-storage.ts';

/** The gate's one read of an upload: its first bytes and its size from one ranged GET, whatever its length. */
let dir: string;
let s3: EmbeddedS3;
let storage: ObjectStorage;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'read-head-'));
  const secret = randomBytes(16).toString('hex');
  s3 = await startEmbeddedS3({ dataDir: dir, accessKeyId: 'rh', secretAccessKey: secret });
  storage = createS3Storage(
    loadConfig({
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: 'rh',
      S3_SECRET_ACCESS_KEY: secret,
      S3_BUCKET: 'read-head',
      JWT_SECRET: 'x'.repeat(32),
      DATA_DIR: join(dir, 'data'),
    }).s3,
  );
  await storage.ensureBucket();
});
after(async () => {
  await s3?.stop();
  await rm(dir, { recursive: true, force: true });
});

const stored = async (key: string, bytes: Buffer) => {
  await storage.put(key, bytes, 'application/octet-stream', bytes.length);
  return bytes;
};

test('an object longer than asked: its first bytes and its whole size', async () => {
  const bytes = await stored('long', randomBytes(10_000));
  assert.deepEqual(await storage.readHead('long', 4096), { bytes: bytes.subarray(0, 4096), size: 10_000 });
});

test('an object shorter than asked, or exactly as long: all of it', async () => {
  const bytes = await stored('short', randomBytes(300));
  assert.deepEqual(await storage.readHead('short', 4096), { bytes, size: 300 });
  assert.deepEqual(await storage.readHead('short', 300), { bytes, size: 300 });
});

test('an empty object reads as empty, a missing one as undefined', async () => {
  await stored('empty', Buffer.alloc(0));
  assert.deepEqual(await storage.readHead('empty', 4096), { bytes: Buffer.alloc(0), size: 0 });
  assert.equal(await storage.readHead('missing', 4096), undefined);
});
