import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type S3ServerHandle, startS3Server } from './s3-server.ts';

const BUCKET = 'mediagate-test';
const MiB = 1024 * 1024;

async function bytesOf(out: GetObjectCommandOutput): Promise<Buffer> {
  assert.ok(out.Body, 'GetObject returned a body');
  return Buffer.from(await out.Body.transformToByteArray());
}

describe('S3 test server (versitygw)', () => {
  let server: S3ServerHandle;
  let dataDir: string;
  let s3: S3Client;
  let presigner: S3Client;

  const clientFor = (extra: Partial<S3ClientConfig> = {}): S3Client =>
    new S3Client({
      endpoint: server.endpoint,
      region: server.region,
      forcePathStyle: true,
      credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
      ...extra,
    });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mediagate-s3-'));
    server = await startS3Server({ cacheDir: join(homedir(), '.cache', 'mediagate'), dataDir });
    s3 = clientFor();
    // By default the SDK signs the CRC32 of the (absent) body into presigned URLs, which S3 services other
    // than versitygw reject once a real body arrives; presigning without it keeps the URLs portable.
    presigner = clientFor({ requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  after(async () => {
    s3?.destroy();
    presigner?.destroy();
    await server?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test('PutObject / GetObject round trip', async () => {
    const body = randomBytes(4096);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'round/trip.bin', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'round/trip.bin' }));
    assert.deepEqual(await bytesOf(got), body);
  });

  test('Range GET returns only the requested bytes', async () => {
    const body = randomBytes(1000);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'range.bin', Body: body }));
    const got = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key: 'range.bin', Range: 'bytes=0-99' }),
    );
    assert.equal(got.$metadata.httpStatusCode, 206);
    assert.equal(got.ContentRange, 'bytes 0-99/1000');
    const bytes = await bytesOf(got);
    assert.equal(bytes.length, 100);
    assert.deepEqual(bytes, body.subarray(0, 100));
  });

  const putPartViaPresignedUrl = async (Key: string, UploadId: string, PartNumber: number, body: Buffer) => {
    const cmd = new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber });
    const url = await getSignedUrl(presigner, cmd, { expiresIn: 300 });
    assert.equal(new URL(url).searchParams.has('x-amz-checksum-crc32'), false);
    const res = await fetch(url, { method: 'PUT', body });
    assert.equal(res.status, 200, await res.text());
    const etag = res.headers.get('etag');
    assert.ok(etag, 'UploadPart response carries an ETag header');
    return etag;
  };

  test('multipart upload through presigned UploadPart URLs', async () => {
    const Key = 'multipart/ten-mib.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    assert.ok(UploadId);
    const lastPart = randomBytes(5 * MiB);
    const parts = [randomBytes(5 * MiB), lastPart];
    const etags: string[] = [];
    for (const [i, part] of parts.entries())
      etags.push(await putPartViaPresignedUrl(Key, UploadId, i + 1, part));

    const listed = await s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
    assert.deepEqual(
      listed.Parts?.map((p) => [p.PartNumber, p.ETag, p.Size]),
      etags.map((etag, i) => [i + 1, etag, 5 * MiB]),
    );

    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key,
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
    assert.equal(head.ContentLength, 10 * MiB);
    const tail = await s3.send(
      new GetObjectCommand({ Bucket: BUCKET, Key, Range: `bytes=${10 * MiB - 16}-` }),
    );
    assert.deepEqual(await bytesOf(tail), lastPart.subarray(-16));
  });

  test('an aborted multipart upload is gone', async () => {
    const Key = 'multipart/aborted.bin';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
    await s3.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: randomBytes(1024) }),
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
    await assert.rejects(s3.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId })), {
      name: 'NoSuchUpload',
    });
  });

  test('an expired presigned PUT URL is rejected', async () => {
    const put = () => new PutObjectCommand({ Bucket: BUCKET, Key: 'expiring.bin' });
    // A URL that is still valid shows the 403 below is down to expiry alone.
    const control = await fetch(await getSignedUrl(presigner, put(), { expiresIn: 60 }), {
      method: 'PUT',
      body: 'in time',
    });
    assert.equal(control.status, 200, await control.text());
    const url = await getSignedUrl(presigner, put(), { expiresIn: 1 });
    await sleep(2_500);
    const res = await fetch(url, { method: 'PUT', body: 'too late' });
    const text = await res.text();
    assert.equal(res.status, 403, text);
    assert.match(text, /<Code>AccessDenied<\/Code><Message>Request has expired\.<\/Message>/);
  });

  test('a presigned URL with a tampered signature is rejected', async () => {
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'signed.txt', Body: 'hello' }));
    const url = new URL(
      await getSignedUrl(presigner, new GetObjectCommand({ Bucket: BUCKET, Key: 'signed.txt' })),
    );
    const signature = url.searchParams.get('X-Amz-Signature') ?? '';
    assert.match(signature, /^[0-9a-f]{64}$/);
    const flipped = signature.endsWith('0') ? '1' : '0';
    url.searchParams.set('X-Amz-Signature', signature.slice(0, -1) + flipped);
    const res = await fetch(url);
    const text = await res.text();
    assert.equal(res.status, 403, text);
    assert.match(text, /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  test('a request signed with the wrong secret is rejected', async () => {
    const credentials = { accessKeyId: server.accessKeyId, secretAccessKey: `${server.secretAccessKey}x` };
    const wrong = clientFor({ credentials });
    try {
      await assert.rejects(wrong.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'signed.txt' })), (err) => {
        assert.equal((err as { name?: string }).name, 'SignatureDoesNotMatch');
        assert.equal((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 403);
        return true;
      });
    } finally {
      wrong.destroy();
    }
  });

  test('a presigned GET URL works with plain fetch', async () => {
    const body = randomBytes(2048);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'download.bin', Body: body }));
    const url = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: BUCKET, Key: 'download.bin' }), {
      expiresIn: 60,
    });
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), body);
  });
});
