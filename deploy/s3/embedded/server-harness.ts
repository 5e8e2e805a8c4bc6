import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { type EmbeddedS3, startEmbeddedS3 } from './server.ts';

/**
 * Shared set-up for the server tests: a fresh server over a temp dir with one bucket, and an SDK
 * client set up the way mediagate's storage adapter sets up its own (platform/storage/s3-storage.ts:
 * checksums only where S3 requires them). No request may end in a 500.
 */

export const MiB = 1024 * 1024;
export const BUCKET = 'media';
export const credentials = { accessKeyId: 'AKIDMEDIAGATEDEV', secretAccessKey: 'dev-secret-0123456789' };

export interface Harness {
  s3: EmbeddedS3;
  client: S3Client;
  dataDir: string;
  /** Another client against the same server, with some settings changed; destroyed after the file. */
  clientWith(overrides: Partial<S3ClientConfig>): S3Client;
}

/** Registers the calling test file's before/after hooks; the harness is filled in once `before` ran. */
export function useServer(): Harness {
  const harness = {} as Harness;
  const faults: unknown[] = [];
  const clients: S3Client[] = [];
  before(async () => {
    harness.dataDir = await mkdtemp(join(tmpdir(), 'mediagate-s3-'));
    harness.s3 = await startEmbeddedS3({
      dataDir: harness.dataDir,
      ...credentials,
      onError: (e) => faults.push(e),
    });
    const config: S3ClientConfig = {
      endpoint: harness.s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    harness.clientWith = (overrides) => {
      const client = new S3Client({ ...config, ...overrides });
      clients.push(client);
      return client;
    };
    harness.client = harness.clientWith({});
    await harness.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    for (const client of clients) client.destroy();
    await harness.s3.stop();
    await rm(harness.dataDir, { recursive: true, force: true });
    assert.deepEqual(faults, [], 'no request ended in an internal error');
  });
  return harness;
}

export const md5 = (data: Buffer): Buffer => createHash('md5').update(data).digest();
export const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
export const patterned = (size: number, seed: number): Buffer => Buffer.alloc(size, `${seed}:mediagate:`);

/** An assert.rejects predicate for an SDK error with this name and HTTP status. */
export const s3Error = (name: string, status: number) => (error: unknown) => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  assert.equal(e.name, name);
  assert.equal(e.$metadata?.httpStatusCode, status);
  return true;
};

export const bodyBytes = async (body: unknown): Promise<Buffer> =>
  Buffer.from(await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
