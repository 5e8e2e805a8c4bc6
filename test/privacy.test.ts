import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import exifr from 'exifr';
import sharp from 'sharp';
import type { MediaView } from '../contracts/media.ts';
import { makeJpegWithGps, TEST_CAMERA, TEST_XMP_MARKER } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { readThroughEdge, sha256, trace, uploadPhoto } from './photos.ts';

let platform: Platform;
let photo: Buffer;
let media: MediaView;
let rawKey: string;
/** A URL token the API issued (while the photo was private) for one of its derivatives. */
let variantToken: string;
const alice = () => apiClient(platform, platform.token('alice'));
const bob = () => apiClient(platform, platform.token('bob'));

before(async () => {
  platform = await startPlatform();
  photo = await makeJpegWithGps(2000, 1500, { lat: 48.8584, lon: 2.2945, alt: 35 }, 6);
  const uploaded = await uploadPhoto(alice(), photo, 'eiffel.jpg');
  assert.equal(uploaded.status, 'ready', JSON.stringify(uploaded.failure));
  variantToken = new URL(uploaded.variants[0]?.url ?? '').searchParams.get('token') ?? '';
  assert.ok(variantToken);
  const made = await alice().call<MediaView>('PATCH', `/v1/media/${uploaded.id}`, { visibility: 'public' });
  assert.equal(made.status, 200);
  media = made.body;
  rawKey = (await trace(platform, media.id)).media.objectKey;
});
after(() => platform?.stop());

test("a public photo's view shows its metadata to the owner only", async () => {
  const owner = media.metadata as { make?: string; gps?: { lat: number } } | null;
  assert.equal(owner?.make, TEST_CAMERA.make);
  assert.ok(owner?.gps && Math.abs(owner.gps.lat - 48.8584) < 0.001);

  const seen = await bob().get<MediaView>(`/v1/media/${media.id}`);
  assert.equal(seen.status, 200, 'public media are visible to others');
  assert.equal(seen.body.visibility, 'public');
  assert.equal(seen.body.metadata, null);
  assert.ok(!JSON.stringify(seen.body).includes('48.85'), 'no coordinates anywhere in the view');
});

test('the original is served to its owner only, even when the media is public', async () => {
  assert.match(rawKey, /^raw\//);
  const url = `${platform.edgeUrl}/m/${rawKey}`;
  assert.equal((await readThroughEdge(url)).status, 401, 'anonymous');
  assert.equal((await readThroughEdge(url, platform.token('bob'))).status, 403, 'another user');
  assert.equal((await readThroughEdge(`${url}?token=${variantToken}`)).status, 403, 'a token for a variant');
  const bobsView = await bob().get<MediaView>(`/v1/media/${media.id}`);
  assert.ok(
    !JSON.stringify(bobsView.body).includes(rawKey),
    "the original's key appears in no view given to others",
  );

  const own = await readThroughEdge(url, platform.token('alice'));
  assert.equal(own.status, 302);
  assert.equal(sha256(own.bytes ?? Buffer.alloc(0)), sha256(photo), 'the owner gets the untouched original');

  const variant = await readThroughEdge(media.variants[0]?.url ?? '');
  assert.equal(variant.status, 302, 'while its public derivatives are open to anyone');
});

test('no rung of a photo with GPS carries EXIF, XMP or GPS', async () => {
  assert.deepEqual(media.variants.map((v) => v.quality).sort(), ['high', 'low', 'medium', 'thumbnail']);
  for (const variant of media.variants) {
    const { status, bytes = Buffer.alloc(0) } = await readThroughEdge(variant.url);
    assert.equal(status, 302, variant.quality);
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.format, 'webp', variant.quality);
    assert.equal(meta.exif, undefined, `${variant.quality} carries EXIF`);
    assert.equal(meta.xmp, undefined, `${variant.quality} carries XMP`);
    assert.equal(await exifr.gps(bytes).catch(() => undefined), undefined, `${variant.quality} carries GPS`);
    for (const trace of [TEST_XMP_MARKER, TEST_CAMERA.make, TEST_CAMERA.model]) {
      assert.equal(bytes.includes(trace), false, `${variant.quality} contains "${trace}"`);
    }
  }
});
