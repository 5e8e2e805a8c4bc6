import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { initStorage } from '../cli/storage.ts';
import type { MediaView } from '../contracts/media.ts';
import type { UploadSession, UploadState } from '../contracts/uploads.ts';
import { abortRuleId } from '../deploy/s3/lifecycle.ts';
import { loadConfig } from '../platform/config.ts';
import { createS3Client } from '../platform/storage/s3-storage.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient, putParts } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { readThroughEdge, sweep, trace } from './photos.ts';

/**
 * The image flow on the in-process S3 server that `npm start` users run (deploy/s3/embedded), with the
 * roles as separate processes: every request mediagate sends to storage — presigned part PUTs, ListParts,
 * CompleteMultipartUpload, HEAD and range GETs in the gate, the worker's streamed GET and PUTs, presigned
 * GETs behind the edge, DeleteObjects, ListObjectsV2, the lifecycle rule — answered by that server.
 */

const mib = 1024 * 1024;
let platform: Platform;
let photo: Buffer;
const alice = () => apiClient(platform, platform.token('alice'));

before(async () => {
  platform = await startPlatform({ s3: 'embedded' });
  // Over 10 MiB with grain, so it travels in two 5 MiB parts as a phone original would.
  photo = await makeJpegWithGps(4000, 3000, { lat: 48.8584, lon: 2.2945 }, 6, true);
  assert.ok(photo.length > 10 * mib);
});
after(() => platform?.stop());

describe('a photo through the whole flow on the embedded S3 server', () => {
  let session: UploadSession;
  let media: MediaView;

  test('parts PUT to presigned URLs are listed for a resume, then complete → ready', async () => {
    const created = await alice().post<UploadSession>('/v1/uploads', {
      filename: 'IMG_0001.JPG',
      contentType: 'image/jpeg',
      size: photo.length,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    session = created.body;
    assert.ok(session.partCount >= 2);
    const parts = await putParts(session, photo);

    const state = await alice().get<UploadState>(`/v1/uploads/${session.uploadId}`);
    assert.equal(state.status, 200);
    assert.deepEqual(
      state.body.uploadedParts.map((p) => p.partNumber),
      parts.map((p) => p.partNumber),
    );

    const completed = await alice().post<MediaView>(`/v1/uploads/${session.uploadId}/complete`, { parts });
    assert.equal(completed.status, 202, JSON.stringify(completed.body));
    media = await alice().waitForMedia(session.mediaId, (m) => m.status !== 'processing');
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
  });

  test('every rung loads through the edge, whole and by range', async () => {
    for (const variant of media.variants) {
      const read = await readThroughEdge(variant.url ?? '');
      assert.equal(read.status, 302);
      const meta = await sharp(read.bytes).metadata();
      assert.equal(meta.format, 'webp', variant.quality);
      assert.equal(meta.width, variant.width);
    }
    const redirect = await fetch(media.url ?? '', { redirect: 'manual' });
    const location = redirect.headers.get('location') ?? '';
    const ranged = await fetch(location, { headers: { range: 'bytes=0-15' } });
    assert.equal(ranged.status, 206);
    assert.equal((await ranged.arrayBuffer()).byteLength, 16);
  });

  test('a presigned URL with a changed signature, or past its expiry, is refused', async () => {
    const { media: row } = await trace(platform, media.id);
    // X-Amz-Date is whole seconds, so a URL lives between its expiry less one second and its expiry.
    const url = new URL(await platform.storage.presignGet(row.objectKey, 2, 'public'));
    assert.equal((await fetch(url)).status, 200);
    const forged = new URL(url);
    forged.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    const refused = await fetch(forged);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /SignatureDoesNotMatch/);
    await new Promise((resolve) => setTimeout(resolve, 2100 + 1000));
    const expired = await fetch(url);
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /expired/i);
  });

  test('an aborted upload frees its parts; a deleted media frees its objects', async () => {
    const created = await alice().post<UploadSession>('/v1/uploads', {
      filename: 'abandoned.jpg',
      contentType: 'image/jpeg',
      size: photo.length,
    });
    assert.equal(created.status, 201);
    const [first] = created.body.parts;
    assert.ok(first);
    assert.equal((await fetch(first.url, { method: 'PUT', body: photo.subarray(0, 5 * mib) })).status, 200);
    assert.equal((await alice().delete(`/v1/uploads/${created.body.uploadId}`)).status, 204);
    const late = await fetch(first.url, { method: 'PUT', body: photo.subarray(0, 5 * mib) });
    assert.equal(late.status, 404, 'the upload no longer exists');

    const keys = await trace(platform, media.id);
    assert.equal((await alice().delete(`/v1/media/${media.id}`)).status, 204);
    await sweep(platform, { graceSeconds: 0 });
    for (const key of [keys.media.objectKey, ...keys.variants.map((v) => v.objectKey)]) {
      assert.equal(await platform.storage.head(key), undefined, `${key} is still stored`);
    }
  });

  test('storage init puts the abort-incomplete-uploads rule on the bucket, once however often it runs', async () => {
    const s3 = loadConfig(platform.env).s3;
    await initStorage(s3);
    await initStorage(s3);
    const client = createS3Client(s3);
    const { Rules = [] } = await client.send(
      new GetBucketLifecycleConfigurationCommand({ Bucket: s3.bucket }),
    );
    client.destroy();
    const ours = Rules.filter((rule) => rule.ID === abortRuleId);
    assert.equal(ours.length, 1);
    assert.equal(ours[0]?.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 2);
  });
});
