import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { noSuchBucket, noSuchKey, S3Error } from './errors.ts';
import {
  isMissing,
  KeyedLock,
  randomName,
  readJson,
  readOptional,
  type Spooled,
  spool,
  writeFileAtomic,
  writeJsonAtomic,
} from './files.ts';

/**
 * Buckets and objects on disk:
 *
 *   {dataDir}/tmp/                                  staging; everything becomes visible by rename
 *   {dataDir}/buckets/{bucket}/bucket.json          creation time
 *   {dataDir}/buckets/{bucket}/lifecycle.xml        lifecycle configuration, verbatim
 *   {dataDir}/buckets/{bucket}/objects/{h}.json     sidecar: key, size, ETag, content type, data file name
 *   {dataDir}/buckets/{bucket}/objects/{h}.{rand}   object bytes
 *   {dataDir}/buckets/{bucket}/uploads/             multipart uploads (see multipart.ts)
 *
 * {h} is the SHA-256 of the key, so any key (slashes, "..", 1024 bytes) maps to a safe file name. The
 * sidecar is the commit point: replacing it atomically switches readers to the new data file.
 */

export interface ObjectMeta {
  contentType: string;
}

export interface ObjectRecord extends ObjectMeta {
  key: string;
  size: number;
  /** Quoted, as S3 sends it. */
  etag: string;
  lastModified: number;
  file: string;
}

export interface ListOptions {
  prefix: string;
  /** Keys up to and including this are skipped. */
  after: string;
  maxKeys: number;
}

export interface Listing {
  objects: ObjectRecord[];
  truncated: boolean;
  /** Where the next page starts after, when truncated. */
  last: string | undefined;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const MAX_KEY_BYTES = 1024;

export const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

const isValidBucketName = (name: string): boolean =>
  BUCKET_NAME.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);

export class Store {
  readonly tmpDir: string;
  readonly #buckets: string;
  readonly #locks = new KeyedLock();

  constructor(dataDir: string) {
    this.tmpDir = join(dataDir, 'tmp');
    this.#buckets = join(dataDir, 'buckets');
  }

  async init(): Promise<void> {
    // Leftovers in tmp are writes that never committed.
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.#buckets, { recursive: true });
  }

  /** The bucket's directory; names that could never be buckets never reach the filesystem. */
  bucketDir(bucket: string): string {
    if (!isValidBucketName(bucket)) throw noSuchBucket(bucket);
    return join(this.#buckets, bucket);
  }

  async requireBucket(bucket: string): Promise<string> {
    const dir = this.bucketDir(bucket);
    if ((await readOptional(join(dir, 'bucket.json'))) === undefined) throw noSuchBucket(bucket);
    return dir;
  }

  /** Creates the bucket in one rename; false when it already existed. */
  async createBucket(bucket: string): Promise<boolean> {
    if (!isValidBucketName(bucket)) {
      throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', {
        BucketName: bucket,
      });
    }
    const staging = join(this.tmpDir, randomName());
    await mkdir(join(staging, 'objects'), { recursive: true });
    await mkdir(join(staging, 'uploads'));
    await writeJsonAtomic(join(staging, 'bucket.json'), { created: Date.now() }, this.tmpDir);
    try {
      await rename(staging, this.bucketDir(bucket));
      return true;
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      if (
        error instanceof Error &&
        'code' in error &&
        (error.code === 'ENOTEMPTY' || error.code === 'EEXIST')
      )
        return false;
      throw error;
    }
  }

  /** Every bucket's name, for the lifecycle sweep. */
  async bucketNames(): Promise<string[]> {
    return (await readdir(this.#buckets)).filter(isValidBucketName);
  }

  async putLifecycle(bucket: string, xml: string): Promise<void> {
    await writeFileAtomic(join(await this.requireBucket(bucket), 'lifecycle.xml'), xml, this.tmpDir);
  }

  async getLifecycle(bucket: string): Promise<string | undefined> {
    return readOptional(join(await this.requireBucket(bucket), 'lifecycle.xml'));
  }

  /** S3 refuses keys over 1024 bytes of UTF-8; callers check before reading any body. */
  checkKey(key: string): void {
    const size = Buffer.byteLength(key);
    if (size > MAX_KEY_BYTES)
      throw new S3Error(400, 'KeyTooLongError', 'Your key is too long', { Size: String(size) });
  }

  #objectPaths(bucket: string, key: string) {
    this.checkKey(key);
    const dir = join(this.bucketDir(bucket), 'objects');
    const hash = createHash('sha256').update(key).digest('hex');
    return { dir, hash, sidecar: join(dir, `${hash}.json`) };
  }

  /** Streams `source` to disk and commits it; `meta` is asked for only after the body verified. */
  async putObject(
    bucket: string,
    key: string,
    source: AsyncIterable<Buffer>,
    meta: () => ObjectMeta,
  ): Promise<ObjectRecord> {
    await this.requireBucket(bucket);
    this.checkKey(key);
    const spooled = await spool(source, this.tmpDir);
    return this.commitObject(bucket, key, spooled, `"${spooled.md5.toString('hex')}"`, meta());
  }

  /** Moves a spooled file into place as `key`, replacing any previous version atomically. */
  async commitObject(
    bucket: string,
    key: string,
    spooled: Spooled,
    etag: string,
    meta: ObjectMeta,
  ): Promise<ObjectRecord> {
    const { dir, hash, sidecar } = this.#objectPaths(bucket, key);
    const file = `${hash}.${randomName()}`;
    try {
      await rename(spooled.path, join(dir, file));
    } catch (error) {
      await rm(spooled.path, { force: true });
      if (isMissing(error)) throw noSuchBucket(bucket);
      throw error;
    }
    const record: ObjectRecord = { ...meta, key, size: spooled.size, etag, lastModified: Date.now(), file };
    await this.#locks.run(sidecar, async () => {
      const previous = await readJson<ObjectRecord>(sidecar);
      await writeJsonAtomic(sidecar, record, this.tmpDir);
      if (previous) await rm(join(dir, previous.file), { force: true });
    });
    return record;
  }

  async headObject(bucket: string, key: string): Promise<ObjectRecord> {
    const record = await readJson<ObjectRecord>(this.#objectPaths(bucket, key).sidecar);
    if (record) return record;
    await this.requireBucket(bucket);
    throw noSuchKey(key);
  }

  /** Opens the current version; an open handle keeps reading it even if it is replaced meanwhile. */
  async openObject(bucket: string, key: string): Promise<{ record: ObjectRecord; handle: FileHandle }> {
    const { dir } = this.#objectPaths(bucket, key);
    for (let attempt = 0; attempt < 3; attempt++) {
      const record = await this.headObject(bucket, key);
      try {
        return { record, handle: await open(join(dir, record.file), 'r') };
      } catch (error) {
        if (!isMissing(error)) throw error;
      }
    }
    throw noSuchKey(key);
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.requireBucket(bucket);
    const { dir, sidecar } = this.#objectPaths(bucket, key);
    await this.#locks.run(sidecar, async () => {
      const previous = await readJson<ObjectRecord>(sidecar);
      if (!previous) return;
      await rm(sidecar, { force: true });
      await rm(join(dir, previous.file), { force: true });
    });
  }

  async listObjects(bucket: string, options: ListOptions): Promise<Listing> {
    const dir = join(await this.requireBucket(bucket), 'objects');
    const sidecars = (await readdir(dir)).filter((name) => name.endsWith('.json'));
    const records = (await Promise.all(sidecars.map((name) => readJson<ObjectRecord>(join(dir, name)))))
      .filter((record): record is ObjectRecord => record?.key.startsWith(options.prefix) === true)
      .sort((a, b) => byUtf8(a.key, b.key));

    const listing: Listing = { objects: [], truncated: false, last: undefined };
    for (const record of records) {
      if (byUtf8(record.key, options.after) <= 0) continue;
      if (listing.objects.length >= options.maxKeys) {
        listing.truncated = true;
        break;
      }
      listing.objects.push(record);
      listing.last = record.key;
    }
    return listing;
  }
}
