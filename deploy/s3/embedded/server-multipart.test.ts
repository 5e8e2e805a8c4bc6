import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  ListPartsCommand,
  PutBucketLifecycleConfigurationCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BUCKET, bodyBytes, MiB, md5, patterned, s3Error, sha256, useServer } from './server-harness.ts';

// Multipart uploads, through the SDK and through plain fetch on presigned part URLs as mobile
// clients do it, and the lifecycle rule that cleans up the ones never completed.

const h = useServer();

test('runs a multipart upload through the SDK, with S3 multipart ETag and part listings', async () => {
  const Key = 'video/sdk.mp4';
  const parts = [patterned(5 * MiB, 1), patterned(MiB + 17, 2)];
  const { UploadId } = await h.client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key, ContentType: 'video/mp4' }),
  );
  const etags: string[] = [];
  for (const [index, Body] of parts.entries()) {
    const { ETag } = await h.client.send(
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: index + 1, Body }),
    );
    assert.equal(ETag, `"${md5(Body).toString('hex')}"`);
    etags.push(ETag ?? '');
  }
  const listed = await h.client.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId }));
  assert.deepEqual(
    listed.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag]),
    [
      [1, 5 * MiB, etags[0]],
      [2, MiB + 17, etags[1]],
    ],
  );
  const done = await h.client.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key,
      UploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
  assert.equal(
    done.ETag,
    `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-2"`,
  );
  const got = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  assert.equal(got.ContentType, 'video/mp4');
  assert.equal(sha256(await bodyBytes(got.Body)), sha256(Buffer.concat(parts)));
  await assert.rejects(
    h.client.send(new ListPartsCommand({ Bucket: BUCKET, Key, UploadId })),
    s3Error('NoSuchUpload', 404),
  );
});

test('refuses to complete a multipart upload with small, unknown or unordered parts', async () => {
  const Key = 'video/bad.mp4';
  const { UploadId } = await h.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
  const small = await h.client.send(
    new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 1, Body: patterned(MiB, 1) }),
  );
  const last = await h.client.send(
    new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: 2, Body: 'end' }),
  );
  const complete = (Parts: Array<{ ETag?: string; PartNumber: number }>) =>
    h.client.send(
      new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId, MultipartUpload: { Parts } }),
    );
  await assert.rejects(
    complete([
      { ETag: small.ETag, PartNumber: 1 },
      { ETag: last.ETag, PartNumber: 2 },
    ]),
    s3Error('EntityTooSmall', 400),
  );
  await assert.rejects(complete([{ ETag: '"0123"', PartNumber: 1 }]), s3Error('InvalidPart', 400));
  await assert.rejects(
    complete([
      { ETag: last.ETag, PartNumber: 2 },
      { ETag: small.ETag, PartNumber: 1 },
    ]),
    s3Error('InvalidPartOrder', 400),
  );
  await h.client.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key, UploadId }));
  await assert.rejects(complete([{ ETag: last.ETag, PartNumber: 2 }]), s3Error('NoSuchUpload', 404));
});

test('takes multipart parts PUT with plain fetch on presigned URLs (2 × 5 MiB)', async () => {
  const Key = 'mobile/upload.mov';
  const { UploadId } = await h.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key }));
  const parts = [patterned(5 * MiB, 7), patterned(5 * MiB, 8)];
  const etags: string[] = [];
  for (const [index, body] of parts.entries()) {
    const url = await getSignedUrl(
      h.client,
      new UploadPartCommand({ Bucket: BUCKET, Key, UploadId, PartNumber: index + 1 }),
      { expiresIn: 300 },
    );
    const response = await fetch(url, { method: 'PUT', body });
    assert.equal(response.status, 200, await response.text());
    assert.equal(response.headers.get('etag'), `"${md5(body).toString('hex')}"`);
    etags.push(response.headers.get('etag') ?? '');
  }
  await h.client.send(
    new CompleteMultipartUploadCommand({
      Bucket: BUCKET,
      Key,
      UploadId,
      MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
    }),
  );
  const download = await fetch(
    await getSignedUrl(h.client, new GetObjectCommand({ Bucket: BUCKET, Key }), { expiresIn: 60 }),
  );
  assert.equal(download.status, 200);
  assert.equal(sha256(Buffer.from(await download.arrayBuffer())), sha256(Buffer.concat(parts)));
});

test('stores and returns the lifecycle configuration, and its sweep aborts stale uploads', async () => {
  await h.client.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: BUCKET,
      LifecycleConfiguration: {
        Rules: [
          {
            ID: 'stale-uploads',
            Status: 'Enabled',
            Filter: { Prefix: 'tmp/' },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          },
        ],
      },
    }),
  );
  const { Rules } = await h.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: BUCKET }));
  assert.equal(Rules?.[0]?.ID, 'stale-uploads');
  assert.equal(Rules?.[0]?.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 1);

  const stale = await h.client.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'tmp/abandoned' }),
  );
  const kept = await h.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'keep/ongoing' }));
  assert.equal(await h.s3.sweepLifecycle(), 0, 'nothing is due yet');
  assert.equal(await h.s3.sweepLifecycle(new Date(Date.now() + 3 * 86_400_000)), 1);
  const parts = (upload: { Key?: string; UploadId?: string }) =>
    h.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: upload.Key, UploadId: upload.UploadId }));
  assert.equal((await parts(kept)).$metadata.httpStatusCode, 200);
  await assert.rejects(parts(stale), s3Error('NoSuchUpload', 404));
});
