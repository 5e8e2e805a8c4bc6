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
  PutObjectTaggingCommand,
} from '@aws-sdk/client-s3';
import { BUCKET, bodyBytes, md5, patterned, s3Error, useServer } from './server-harness.ts';

// Buckets and whole objects through @aws-sdk/client-s3 set up as mediagate's storage adapter sets it up.

const h = useServer();

test('creates and heads buckets, again and again; an unknown bucket is NotFound', async () => {
  await h.client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const head = await h.client.send(new HeadBucketCommand({ Bucket: BUCKET }));
  assert.equal(head.$metadata.httpStatusCode, 200);
  await assert.rejects(
    h.client.send(new HeadBucketCommand({ Bucket: 'missing-bucket' })),
    s3Error('NotFound', 404),
  );
  await assert.rejects(
    h.client.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })),
    s3Error('InvalidBucketName', 400),
  );
});

test('stores an object with its type and serves it whole, by range and conditionally', async () => {
  const Key = 'docs/hello world+.txt';
  const put = await h.client.send(
    new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'hello, world', ContentType: 'text/plain' }),
  );
  assert.equal(put.ETag, `"${md5(Buffer.from('hello, world')).toString('hex')}"`);
  const head = await h.client.send(new HeadObjectCommand({ Bucket: BUCKET, Key }));
  assert.equal(head.ContentLength, 12);
  assert.equal(head.ETag, put.ETag);
  assert.equal(head.ContentType, 'text/plain');
  assert.ok(head.LastModified instanceof Date && Date.now() - head.LastModified.getTime() < 60_000);

  const whole = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
  assert.equal(await whole.Body?.transformToString(), 'hello, world');
  // A browser revalidating a cached image sends the ETag it holds.
  await assert.rejects(
    h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key, IfNoneMatch: put.ETag })),
    (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode === 304,
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

test('streams a PutObject of known length, as the worker sends its derivatives', async () => {
  const chunks = [patterned(10_000, 1), patterned(9_000, 2), patterned(123, 3)];
  const data = Buffer.concat(chunks);
  const put = await h.client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'streamed.bin',
      Body: Readable.from(chunks),
      ContentLength: data.length,
      ContentType: 'image/webp',
    }),
  );
  assert.equal(put.ETag, `"${md5(data).toString('hex')}"`);
  const got = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'streamed.bin' }));
  assert.equal(got.ContentType, 'image/webp');
  assert.ok((await bodyBytes(got.Body)).equals(data));
});

test('lists by prefix, page by page with continuation tokens', async () => {
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
});

test('refuses what mediagate never asks of it, instead of answering something else', async () => {
  await h.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'only.txt', Body: 'x' }));
  await assert.rejects(
    h.client.send(
      new CopyObjectCommand({ Bucket: BUCKET, Key: 'copy.txt', CopySource: `${BUCKET}/only.txt` }),
    ),
    s3Error('NotImplemented', 501),
  );
  await assert.rejects(
    h.client.send(new PutObjectTaggingCommand({ Bucket: BUCKET, Key: 'only.txt', Tagging: { TagSet: [] } })),
    s3Error('NotImplemented', 501),
  );
  await assert.rejects(h.client.send(new ListBucketsCommand({})), s3Error('MethodNotAllowed', 405));
  await assert.rejects(
    h.client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'only.txt' })),
    s3Error('MethodNotAllowed', 405),
  );
  const still = await h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'only.txt' }));
  assert.equal(await still.Body?.transformToString(), 'x');
});

test('deletes in batches, missing keys included', async () => {
  for (const Key of ['del/2', 'del/3'])
    await h.client.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: 'x' }));
  const batch = await h.client.send(
    new DeleteObjectsCommand({
      Bucket: BUCKET,
      Delete: { Objects: [{ Key: 'del/2' }, { Key: 'del/3' }, { Key: 'del/none' }] },
    }),
  );
  assert.deepEqual(batch.Deleted?.map((d) => d.Key).sort(), ['del/2', 'del/3', 'del/none']);
  await assert.rejects(
    h.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'del/2' })),
    s3Error('NoSuchKey', 404),
  );
  const left = await h.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'del/' }));
  assert.equal(left.KeyCount, 0);
});
