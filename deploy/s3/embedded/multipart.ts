import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { noSuchUpload, S3Error } from './errors.ts';
import { KeyedLock, randomName, readJson, spool, writeJsonAtomic } from './files.ts';
import { byUtf8, type ObjectMeta, type ObjectRecord, type Store } from './store.ts';
import type { CompletedPart } from './xml.ts';

/**
 * Multipart uploads on disk, beside the bucket's objects:
 *
 *   uploads/{uploadId}/upload.json          key, initiation time, metadata for the final object
 *   uploads/{uploadId}/part-{n}.json        part sidecar: ETag, size, data file name
 *   uploads/{uploadId}/part-{n}.{rand}      part bytes
 *
 * Completion streams the parts, in order, into one staged file and commits it like any object.
 */

export interface UploadRecord {
  uploadId: string;
  key: string;
  initiated: number;
  meta: ObjectMeta;
}

export interface PartRecord {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: number;
  file: string;
}

const MIN_PART_SIZE = 5 * 1024 * 1024;
const UPLOAD_ID = /^[A-Za-z0-9_-]{32}$/;

export class Multipart {
  readonly #store: Store;
  readonly #locks = new KeyedLock();

  constructor(store: Store) {
    this.#store = store;
  }

  async #uploadsDir(bucket: string): Promise<string> {
    return join(await this.#store.requireBucket(bucket), 'uploads');
  }

  /** The upload's directory and record, provided it exists and belongs to `key`. */
  async #open(bucket: string, key: string, uploadId: string): Promise<{ dir: string; upload: UploadRecord }> {
    if (!UPLOAD_ID.test(uploadId)) throw noSuchUpload(uploadId);
    const dir = join(await this.#uploadsDir(bucket), uploadId);
    const upload = await readJson<UploadRecord>(join(dir, 'upload.json'));
    if (!upload || upload.key !== key) throw noSuchUpload(uploadId);
    return { dir, upload };
  }

  async create(bucket: string, key: string, meta: ObjectMeta): Promise<UploadRecord> {
    this.#store.checkKey(key);
    const uploads = await this.#uploadsDir(bucket);
    const upload: UploadRecord = {
      uploadId: randomBytes(24).toString('base64url'),
      key,
      initiated: Date.now(),
      meta,
    };
    const staging = join(this.#store.tmpDir, randomName());
    await mkdir(staging);
    await writeJsonAtomic(join(staging, 'upload.json'), upload, this.#store.tmpDir);
    await rename(staging, join(uploads, upload.uploadId));
    return upload;
  }

  async putPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    source: AsyncIterable<Buffer>,
  ): Promise<PartRecord> {
    const { dir } = await this.#open(bucket, key, uploadId);
    const spooled = await spool(source, this.#store.tmpDir);
    const part: PartRecord = {
      partNumber,
      etag: `"${spooled.md5.toString('hex')}"`,
      size: spooled.size,
      lastModified: Date.now(),
      file: `part-${partNumber}.${randomName()}`,
    };
    try {
      await rename(spooled.path, join(dir, part.file));
    } catch {
      // The upload was completed or aborted while this part streamed in.
      await rm(spooled.path, { force: true });
      throw noSuchUpload(uploadId);
    }
    const sidecar = join(dir, `part-${partNumber}.json`);
    await this.#locks.run(sidecar, async () => {
      const previous = await readJson<PartRecord>(sidecar);
      await writeJsonAtomic(sidecar, part, this.#store.tmpDir);
      if (previous) await rm(join(dir, previous.file), { force: true });
    });
    return part;
  }

  async #parts(dir: string): Promise<PartRecord[]> {
    const sidecars = (await readdir(dir)).filter((name) => /^part-\d+\.json$/.test(name));
    return (await Promise.all(sidecars.map((name) => readJson<PartRecord>(join(dir, name)))))
      .filter((part) => part !== undefined)
      .sort((a, b) => a.partNumber - b.partNumber);
  }

  async listParts(
    bucket: string,
    key: string,
    uploadId: string,
  ): Promise<{ upload: UploadRecord; parts: PartRecord[] }> {
    const { dir, upload } = await this.#open(bucket, key, uploadId);
    return { upload, parts: await this.#parts(dir) };
  }

  async complete(
    bucket: string,
    key: string,
    uploadId: string,
    requested: CompletedPart[],
  ): Promise<ObjectRecord> {
    return this.#locks.run(uploadId, async () => {
      const { dir, upload } = await this.#open(bucket, key, uploadId);
      const byNumber = new Map((await this.#parts(dir)).map((part) => [part.partNumber, part]));
      const chosen: PartRecord[] = [];
      for (const [index, wanted] of requested.entries()) {
        const previous = requested[index - 1];
        if (previous && wanted.partNumber <= previous.partNumber) {
          throw new S3Error(
            400,
            'InvalidPartOrder',
            'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
            { UploadId: uploadId },
          );
        }
        const part = byNumber.get(wanted.partNumber);
        if (!part || part.etag !== `"${wanted.etag}"`) {
          throw new S3Error(
            400,
            'InvalidPart',
            "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
            { UploadId: uploadId, PartNumber: String(wanted.partNumber), ETag: wanted.etag },
          );
        }
        chosen.push(part);
      }
      for (const part of chosen.slice(0, -1)) {
        if (part.size < MIN_PART_SIZE) {
          throw new S3Error(
            400,
            'EntityTooSmall',
            'Your proposed upload is smaller than the minimum allowed object size.',
            {
              ProposedSize: String(part.size),
              MinSizeAllowed: String(MIN_PART_SIZE),
              PartNumber: String(part.partNumber),
              ETag: part.etag,
            },
          );
        }
      }
      async function* concatenated(): AsyncGenerator<Buffer> {
        for (const part of chosen) yield* createReadStream(join(dir, part.file));
      }
      const spooled = await spool(concatenated(), this.#store.tmpDir);
      // S3's multipart ETag: MD5 over the concatenated binary part MD5s, then "-<part count>".
      const md5s = createHash('md5');
      for (const part of chosen) md5s.update(Buffer.from(part.etag.slice(1, -1), 'hex'));
      const etag = `"${md5s.digest('hex')}-${chosen.length}"`;
      const record = await this.#store.commitObject(bucket, key, spooled, etag, upload.meta);
      await this.#remove(dir);
      return record;
    });
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.#locks.run(uploadId, async () => {
      const { dir } = await this.#open(bucket, key, uploadId);
      await this.#remove(dir);
    });
  }

  async #remove(dir: string): Promise<void> {
    const doomed = join(this.#store.tmpDir, randomName());
    await rename(dir, doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  /** In-progress uploads, ordered as S3 lists them: by key, then by initiation time. */
  async list(bucket: string): Promise<UploadRecord[]> {
    const uploads = await this.#uploadsDir(bucket);
    const ids = (await readdir(uploads)).filter((name) => UPLOAD_ID.test(name));
    const records = await Promise.all(
      ids.map((id) => readJson<UploadRecord>(join(uploads, id, 'upload.json'))),
    );
    return records
      .filter((record) => record !== undefined)
      .sort((a, b) => byUtf8(a.key, b.key) || a.initiated - b.initiated);
  }
}
