import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { MediaView } from '../contracts/media.ts';
import type { UploadSession } from '../contracts/uploads.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient, putParts } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import type { S3Traffic } from './s3-traffic-proxy.ts';
import {
  type GenericModerationDouble,
  startGenericModerationDouble,
} from './vendors/generic-moderation-double.ts';

/**
 * Storage on two addresses, as behind a cluster's network: the roles reach it on S3_ENDPOINT (the internal
 * proxy), clients on S3_PUBLIC_ENDPOINT (the public proxy), both in front of one S3 server. Each proxy logs
 * what crossed it, so the test can tell who used which address.
 */

const mib = 1024 * 1024;
let platform: Platform;
let vendor: GenericModerationDouble;
let internal: S3Traffic;
let publicSide: S3Traffic;
let photo: Buffer;
/** What this test, playing the client (and the vendor), sent to the public address. */
let clientRequests = 0;
const alice = () => apiClient(platform, platform.token('alice'));

before(async () => {
  vendor = await startGenericModerationDouble();
  platform = await startPlatform({
    s3: 'embedded',
    bus: 'embedded',
    countS3Traffic: true,
    publicS3Proxy: true,
    env: { MODERATION_URL: vendor.url, MODERATION_TOKEN: vendor.token },
  });
  internal = platform.s3Traffic as S3Traffic;
  publicSide = platform.s3PublicTraffic as S3Traffic;
  // Grain makes it over 5 MiB, so it travels in two parts.
  photo = await makeJpegWithGps(3200, 2400, { lat: 48.8584, lon: 2.2945 }, 1, true);
  assert.ok(photo.length > 5 * mib);
});
after(async () => {
  await platform?.stop();
  await vendor?.close();
});

const originOf = (url: string) => new URL(url).origin;

async function viaPublic(url: string, init?: RequestInit): Promise<Response> {
  assert.equal(originOf(url), publicSide.endpoint, `a client was handed ${url}`);
  clientRequests += 1;
  return fetch(url, init);
}

describe('S3_PUBLIC_ENDPOINT: clients reach storage on the public address, the roles on the internal one', () => {
  let media: MediaView;

  test('part URLs are signed for the public address, and the upload completes through them', async () => {
    const created = await alice().post<UploadSession>('/v1/uploads', {
      filename: 'IMG_0002.JPG',
      contentType: 'image/jpeg',
      size: photo.length,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.ok(created.body.partCount >= 2);
    for (const part of created.body.parts) assert.equal(originOf(part.url), publicSide.endpoint);
    clientRequests += created.body.parts.length;
    const parts = await putParts(created.body, photo);

    const completed = await alice().post<MediaView>(`/v1/uploads/${created.body.uploadId}/complete`, {
      parts,
    });
    assert.equal(completed.status, 202, JSON.stringify(completed.body));
    media = await alice().waitForMedia(created.body.mediaId, (m) => m.status !== 'processing');
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
  });

  test('the moderation vendor, outside too, is handed a URL on the public address that serves the upload', async () => {
    const judged = vendor.requests.find((r) => r.mediaId === media.id);
    const url = judged?.url ?? '';
    const read = await viaPublic(url);
    assert.equal(read.status, 200);
    assert.equal(Buffer.from(await read.arrayBuffer()).length, photo.length);
  });

  test('the edge redirects to the public address, and every rung loads there', async () => {
    const token = platform.token('alice');
    for (const url of [media.url ?? '', ...media.variants.map((v) => v.url ?? '')]) {
      const redirect = await fetch(url, {
        redirect: 'manual',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(redirect.status, 302);
      const object = await viaPublic(redirect.headers.get('location') ?? '');
      assert.equal(object.status, 200);
      const meta = await sharp(Buffer.from(await object.arrayBuffer())).metadata();
      assert.ok(meta.width && meta.width > 0);
    }
  });

  test('a redirect moved to the internal host is refused: the signature binds the public one', async () => {
    const redirect = await fetch(media.url ?? '', {
      redirect: 'manual',
      headers: { authorization: `Bearer ${platform.token('alice')}` },
    });
    const moved = new URL(redirect.headers.get('location') ?? '');
    const signedFor = new URL(publicSide.endpoint);
    assert.equal(moved.host, signedFor.host);
    moved.host = new URL(internal.endpoint).host;
    const refused = await fetch(moved);
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /SignatureDoesNotMatch/);
  });

  test('the roles never used the public address: everything it carried came from the client', () => {
    assert.equal(publicSide.requests.length, clientRequests, JSON.stringify(publicSide.requests));
    assert.ok(publicSide.requests.every((r) => r.status === 200));
    const roleWrites = internal.requests.filter((r) => r.method === 'PUT' && r.path.includes('/derived/'));
    assert.ok(
      roleWrites.length >= media.variants.length,
      'the worker stored its outputs on the internal address',
    );
    assert.ok(internal.requests.some((r) => r.method === 'POST' && r.path.includes('/raw/')));
  });
});
