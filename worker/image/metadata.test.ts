import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { ImageRejectedError } from './errors.ts';
import { readImageMetadata } from './metadata.ts';
import { makeJpegWithGps, makePngWithAlpha, TEST_CAMERA } from './test-images.ts';

let workDir: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'metadata-test-'));
});

after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function file(name: string, bytes: Buffer): Promise<string> {
  const path = join(workDir, name);
  await writeFile(path, bytes);
  return path;
}

test('reads camera, capture time, exposure and GPS from a rotated phone JPEG', async () => {
  const path = await file(
    'phone.jpg',
    await makeJpegWithGps(800, 600, { lat: 48.8584, lon: 2.2945, alt: 35 }, 6),
  );
  const metadata = await readImageMetadata(path);
  const { gps, exposure, ...rest } = metadata;
  assert.deepEqual(rest, {
    format: 'jpeg',
    width: 600,
    height: 800,
    orientation: 6,
    make: TEST_CAMERA.make,
    model: TEST_CAMERA.model,
    lens: TEST_CAMERA.lens,
    capturedAt: TEST_CAMERA.capturedAt,
  });
  assert.ok(gps);
  assert.ok(Math.abs(gps.lat - 48.8584) < 1e-6, `lat ${gps.lat}`);
  assert.ok(Math.abs(gps.lon - 2.2945) < 1e-6, `lon ${gps.lon}`);
  assert.equal(gps.alt, 35);
  assert.deepEqual(exposure, {
    exposureTime: TEST_CAMERA.exposureTime,
    fNumber: TEST_CAMERA.fNumber,
    iso: TEST_CAMERA.iso,
    focalLength: TEST_CAMERA.focalLength,
  });
  assert.deepEqual(JSON.parse(JSON.stringify(metadata)), metadata);
});

test('signs GPS coordinates south, west and below sea level', async () => {
  const path = await file(
    'dead-sea.jpg',
    await makeJpegWithGps(64, 48, { lat: -31.5, lon: -35.25, alt: -430 }),
  );
  const { gps } = await readImageMetadata(path);
  assert.ok(gps);
  assert.ok(Math.abs(gps.lat + 31.5) < 1e-6 && Math.abs(gps.lon + 35.25) < 1e-6, JSON.stringify(gps));
  assert.equal(gps.alt, -430);
});

test('returns only what is known for a PNG without EXIF', async () => {
  const path = await file('plain.png', await makePngWithAlpha(200, 150));
  assert.deepEqual(await readImageMetadata(path), { format: 'png', width: 200, height: 150 });
});

test('returns only what is known for a WebP, which exifr cannot parse', async () => {
  const webp = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#123' } })
    .webp()
    .toBuffer();
  const path = await file('plain.webp', webp);
  assert.deepEqual(await readImageMetadata(path), { format: 'webp', width: 30, height: 20 });
});

test('rejects bytes that are not an image', async () => {
  const path = await file('garbage.jpg', Buffer.from('not an image at all'));
  await assert.rejects(
    readImageMetadata(path),
    (error) => error instanceof ImageRejectedError && error.code === 'image_undecodable',
  );
});
