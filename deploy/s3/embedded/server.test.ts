import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { BUCKET, bodyBytes, md5, patterned, s3Error, useServer } from './server-harness.ts';

// Buckets and whole objects through @aws-sdk/client-s3 with its default checksum settings.

const h = useServer();

test('creates, heads and lists buckets; an unknown bucket is NotFound', async () => {
  await h.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const head = await h.client.send(new HeadBucketCommand({ Bucket: BUCKET }));
  assert.equal(head.$metadata.httpStatusCode, 200);
  await assert.rejects(
    h.client.send(new HeadBucketCommand({ Bucket: 'missing-bucket' })),
    s3Error('NotFound', 404),
  );
  const { Buckets } = await h.client.send(new ListBucketsCommand({}));
  assert.ok(Buckets?.some((bucket) => bucket.Name === BUCKET));
  await assert.rejects(
    h.client.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })),
    s3Error('InvalidBucketName', 400),
  );
});

test('stores an object with its metadata and serves it whole and by range', async () => {
  const Key = 'docs/hello world+.txt';
  const put = await h.client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key,
      Body: 'hello, world',
      ContentType: 'text/plain',
      Metadata: { owner: 'alice' },
    }),
  );
  assert.equal(put.ETag, `"${md5(Buffer.from('hello, world')).toString('hex')}"`);
  const head = await h.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
  assert.equal(head.ContentLength, 12);
  assert.equal(head.ETag, put.ETag);
  assert.equal(head.ContentType, 'text/plain');
  assert.ok(head.LastModified instanceof Date && Date.now() - head.LastModified.getTime() < 60_000);
  assert.deepEqual(head.Metadata, { owner: 'alice' });

  const whole = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  assert.equal(await whole.Body?.transformToString(), 'hello, world');
  assert.equal(
    whole.ChecksumCRC32,
    put.ChecksumCRC32,
    'the stored CRC32 comes back, and the SDK validated it',
  );

  for (const [Range, text, ContentRange] of [
    ['bytes=0-4', 'hello', 'bytes 0-4/12'],
    ['bytes=7-', 'world', 'bytes 7-11/12'],
    ['bytes=-5', 'world', 'bytes 7-11/12'],
    ['bytes=7-100', 'world', 'bytes 7-11/12'],
  ] as const) {
    const part = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range }));
    assert.equal(part.$metadata.httpStatusCode, 206);
    assert.equal(part.ContentRange, ContentRange);
    assert.equal(await part.Body?.transformToString(), text);
  }
  await assert.rejects(
    h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key, Range: 'bytes=12-' })),
    s3Error('InvalidRange', 416),
  );
  await assert.rejects(
    h.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'docs/none' })),
    s3Error('NotFound', 404),
  );
  await assert.rejects(
    h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/none' })),
    s3Error('NoSuchKey', 404),
  );
});

test('signs and stores keys with any characters S3 allows', async () => {
  for (const Key of ["weird/ünïcödé ~!*'()&$@=;:+,?#[]%.txt", 'a//double/../dots/./x', ' leading space']) {
    await h.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }));
    const got = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    assert.equal(await got.Body?.transformToString(), Key);
    const listed = await h.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: Key }));
    assert.deepEqual(
      listed.Contents?.map((o) => o.Key),
      [Key],
    );
  }
});

test('accepts a streamed PutObject, which the SDK sends aws-chunked with a trailing CRC32', async () => {
  const chunks = [patterned(10_000, 1), patterned(9_000, 2), patterned(123, 3)];
  const data = Buffer.concat(chunks);
  const put = await h.client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'streamed.bin',
      Body: Readable.from(chunks),
      ContentLength: data.length,
    }),
  );
  assert.ok(put.ChecksumCRC32);
  const got = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'streamed.bin' }));
  assert.ok((await bodyBytes(got.Body)).equals(data));
  // Like S3, chunks under 8 KiB (other than the last) are refused; the SDK points at requestStreamBufferSize.
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const quietClient = h.clientWith({ logger: quiet });
  const tiny = [Buffer.from('abc'), Buffer.from('def')];
  await assert.rejects(
    quietClient.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'tiny.bin', Body: Readable.from(tiny), ContentLength: 6 }),
    ),
    s3Error('InvalidChunkSizeError', 403),
  );
});

test('lists with prefix, delimiter and continuation tokens', async () => {
  await h.client.send(new CreateBucketCommand({ Bucket: 'listing' }));
  for (const Key of ['a/1', 'a/2', 'a/3', 'b/1', 'top']) {
    await h.client.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }));
  }
  const first = await h.client.send(
    new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'a/', MaxKeys: 2 }),
  );
  assert.deepEqual(
    first.Contents?.map((o) => o.Key),
    ['a/1', 'a/2'],
  );
  assert.equal(first.IsTruncated, true);
  assert.equal(first.Contents?.[0]?.Size, 3);
  const second = await h.client.send(
    new ListObjectsV2Command({
      Bucket: 'listing',
      Prefix: 'a/',
      MaxKeys: 2,
      ContinuationToken: first.NextContinuationToken,
    }),
  );
  assert.deepEqual(
    second.Contents?.map((o) => o.Key),
    ['a/3'],
  );
  assert.equal(second.IsTruncated, false);
  const grouped = await h.client.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }));
  assert.deepEqual(
    grouped.CommonPrefixes?.map((p) => p.Prefix),
    ['a/', 'b/'],
  );
  assert.deepEqual(
    grouped.Contents?.map((o) => o.Key),
    ['top'],
  );
  assert.equal(grouped.KeyCount, 3);
  const paged: string[] = [];
  let ContinuationToken: string | undefined;
  do {
    const page = await h.client.send(
      new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/', MaxKeys: 1, ContinuationToken }),
    );
    paged.push(
      ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
      ...(page.Contents ?? []).map((o) => o.Key ?? ''),
    );
    ContinuationToken = page.NextContinuationToken;
  } while (ContinuationToken);
  assert.deepEqual(paged, ['a/', 'b/', 'top'], 'one entry a page, each common prefix once');
});

test('copies an object, keeping or replacing its metadata', async () => {
  const Key = 'copy/source.txt';
  await h.client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key,
      Body: 'copy me',
      ContentType: 'text/plain',
      Metadata: { a: '1' },
    }),
  );
  const copied = await h.client.send(
    new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy/kept.txt', CopySource: `${BUCKET}/${Key}` }),
  );
  assert.equal(copied.CopyObjectResult?.ETag, `"${md5(Buffer.from('copy me')).toString('hex')}"`);
  const kept = await h.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'copy/kept.txt' }));
  assert.deepEqual([kept.ContentType, kept.Metadata], ['text/plain', { a: '1' }]);
  await h.client.send(
    new CopyObjectCommand({
      Bucket: BUCKET,
      Key: 'copy/replaced.txt',
      CopySource: `${BUCKET}/${Key}`,
      MetadataDirective: 'REPLACE',
      ContentType: 'application/json',
      Metadata: { b: '2' },
    }),
  );
  const replaced = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'copy/replaced.txt' }));
  assert.deepEqual([replaced.ContentType, replaced.Metadata], ['application/json', { b: '2' }]);
  assert.equal(await replaced.Body?.transformToString(), 'copy me');
  await assert.rejects(
    h.client.send(new CopyObjectCommand({ Bucket: BUCKET, Key, CopySource: `${BUCKET}/${Key}` })),
    s3Error('InvalidRequest', 400),
  );
});

test('deletes single objects and batches', async () => {
  for (const Key of ['del/1', 'del/2', 'del/3'])
    await h.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
  const single = await h.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'del/1' }));
  assert.equal(single.$metadata.httpStatusCode, 204);
  await assert.rejects(
    h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'del/1' })),
    s3Error('NoSuchKey', 404),
  );
  const batch = await h.client.send(
    new DeleteObjectsCommand({
      Bucket: BUCKET,
      Delete: { Objects: [{ Key: 'del/2' }, { Key: 'del/3' }, { Key: 'del/none' }] },
    }),
  );
  assert.deepEqual(batch.Deleted?.map((d) => d.Key).sort(), ['del/2', 'del/3', 'del/none']);
  const left = await h.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'del/' }));
  assert.equal(left.KeyCount, 0);
});
