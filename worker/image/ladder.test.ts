import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { thumbHashToApproximateAspectRatio } from 'thumbhash';
import { ImageRejectedError } from './errors.ts';
import { buildImageLadder, type ImageLadder, type ImageLadderOptions } from './ladder.ts';
import { makeHugePng, makeJpegWithGps, makePngWithAlpha, TEST_XMP_MARKER } from './test-images.ts';

const options: ImageLadderOptions = {
  widths: { low: 360, medium: 720, high: 1440 },
  thumbnailSize: 256,
  webpQuality: 80,
  avifQuality: 0,
  maxInputPixels: 100_000_000,
  timeoutSeconds: 60,
};

// WebP RIFF chunks that hold pixels or the container header; EXIF, XMP and ICCP hold metadata.
const IMAGE_CHUNKS = ['VP8 ', 'VP8L', 'VP8X', 'ALPH'];

let workDir: string;

before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'ladder-test-'));
});

after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Writes `bytes` as an input file and returns a fresh output directory beside it. */
async function stage(name: string, bytes: Buffer): Promise<{ input: string; outDir: string }> {
  const input = join(workDir, name);
  const outDir = join(workDir, `${name}-out`);
  await writeFile(input, bytes);
  await mkdir(outDir);
  return { input, outDir };
}

function sizes(ladder: ImageLadder): string[] {
  return ladder.derivatives.map((d) => `${d.quality} ${d.width}x${d.height}`);
}

function riffChunks(webp: Buffer): string[] {
  assert.equal(webp.toString('latin1', 0, 4), 'RIFF');
  assert.equal(webp.toString('latin1', 8, 12), 'WEBP');
  const chunks: string[] = [];
  let offset = 12;
  while (offset + 8 <= webp.length) {
    chunks.push(webp.toString('latin1', offset, offset + 4));
    const length = webp.readUInt32LE(offset + 4);
    offset += 8 + length + (length % 2);
  }
  return chunks;
}

async function assertRejected(promise: Promise<unknown>, code: ImageRejectedError['code']): Promise<void> {
  await assert.rejects(promise, (error) => error instanceof ImageRejectedError && error.code === code);
}

describe('buildImageLadder on a rotated 12 MP phone photo with GPS', () => {
  let original: Buffer;
  let ladder: ImageLadder;

  before(async () => {
    original = await makeJpegWithGps(4000, 3000, { lat: 48.8584, lon: 2.2945, alt: 35 }, 6);
    const { input, outDir } = await stage('phone.jpg', original);
    ladder = await buildImageLadder(input, outDir, options);
  });

  test('reports the upright size and builds every rung upright at the configured widths', () => {
    assert.deepEqual([ladder.width, ladder.height], [3000, 4000]);
    assert.deepEqual(sizes(ladder), ['low 360x480', 'medium 720x960', 'high 1440x1920', 'thumbnail 256x256']);
  });

  test('writes WebP files whose size and dimensions match what is reported', async () => {
    for (const derivative of ladder.derivatives) {
      assert.equal(derivative.path, join(workDir, 'phone.jpg-out', `${derivative.quality}.webp`));
      assert.equal(derivative.contentType, 'image/webp');
      const metadata = await sharp(derivative.path).metadata();
      assert.equal(metadata.format, 'webp');
      assert.deepEqual([metadata.width, metadata.height], [derivative.width, derivative.height]);
      assert.equal((await stat(derivative.path)).size, derivative.bytes);
    }
  });

  test('rotates the right way, not merely swapping width and height', async () => {
    const high = ladder.derivatives.find((d) => d.quality === 'high');
    assert.ok(high);
    const small = { width: 60, height: 80, fit: 'fill' } as const;
    const expected = await sharp(original).rotate().resize(small).raw().toBuffer();
    const actual = await sharp(high.path).resize(small).removeAlpha().raw().toBuffer();
    let difference = 0;
    for (let i = 0; i < expected.length; i++) difference += Math.abs((expected[i] ?? 0) - (actual[i] ?? 0));
    assert.ok(difference / expected.length < 4, `mean difference ${difference / expected.length}`);
  });

  test('carries no EXIF, GPS, XMP or ICC data into any output', async () => {
    // Control: the same checks do see metadata in a WebP that kept it.
    const leaky = await sharp(original).resize(100).keepMetadata().webp().toBuffer();
    const metadataChunks = riffChunks(leaky).filter((chunk) => !IMAGE_CHUNKS.includes(chunk));
    assert.deepEqual(metadataChunks.sort(), ['EXIF', 'ICCP', 'XMP ']);
    for (const derivative of ladder.derivatives) {
      const metadata = await sharp(derivative.path).metadata();
      assert.equal(metadata.exif, undefined, `${derivative.quality} has EXIF`);
      assert.equal(metadata.xmp, undefined, `${derivative.quality} has XMP`);
      assert.equal(metadata.icc, undefined, `${derivative.quality} has ICC`);
      assert.equal(metadata.orientation, undefined, `${derivative.quality} has an orientation`);
      // exifr cannot open WebP, so walk the RIFF container: only image data chunks may be present.
      const bytes = await readFile(derivative.path);
      for (const chunk of riffChunks(bytes)) {
        assert.ok(IMAGE_CHUNKS.includes(chunk), `${derivative.quality} has a ${chunk} chunk`);
      }
      assert.equal(bytes.includes(TEST_XMP_MARKER), false);
    }
  });

  test('returns a ThumbHash placeholder with the upright aspect ratio', () => {
    const ratio = thumbHashToApproximateAspectRatio(Buffer.from(ladder.placeholder, 'base64'));
    assert.ok(Math.abs(ratio - 3000 / 4000) < 0.05, `aspect ratio ${ratio}`);
  });
});

describe('buildImageLadder on small and unusual shapes', () => {
  test('never upscales a small PNG, still produces every rung, and keeps its alpha', async () => {
    const { input, outDir } = await stage('small.png', await makePngWithAlpha(200, 150));
    const ladder = await buildImageLadder(input, outDir, options);
    assert.deepEqual([ladder.width, ladder.height], [200, 150]);
    assert.deepEqual(sizes(ladder), ['low 200x150', 'medium 200x150', 'high 200x150', 'thumbnail 150x150']);
    for (const derivative of ladder.derivatives) {
      const alpha = (await sharp(derivative.path).stats()).channels[3];
      assert.ok(alpha, `${derivative.quality} lost its alpha channel`);
      assert.deepEqual([alpha.min, alpha.max], [0, 128]);
    }
    // Identical rungs are encoded once and copied: same bytes under every name.
    const [low, medium, high] = await Promise.all(
      ladder.derivatives.slice(0, 3).map((d) => readFile(d.path)),
    );
    assert.ok(low?.equals(medium ?? Buffer.alloc(0)) && low.equals(high ?? Buffer.alloc(0)));
  });

  test('produces distinct rungs when the original sits between two widths', async () => {
    const bytes = await sharp({ create: { width: 1000, height: 500, channels: 3, background: '#2a6' } })
      .jpeg()
      .toBuffer();
    const { input, outDir } = await stage('middle.jpg', bytes);
    const ladder = await buildImageLadder(input, outDir, options);
    assert.deepEqual(sizes(ladder), ['low 360x180', 'medium 720x360', 'high 1000x500', 'thumbnail 256x256']);
  });

  test('gives a panorama a full-size thumbnail even though its rungs are short', async () => {
    const bytes = await sharp({ create: { width: 6000, height: 300, channels: 3, background: '#48c' } })
      .png()
      .toBuffer();
    const { input, outDir } = await stage('panorama.png', bytes);
    const ladder = await buildImageLadder(input, outDir, options);
    assert.deepEqual(sizes(ladder), ['low 360x18', 'medium 720x36', 'high 1440x72', 'thumbnail 256x256']);
  });
});

describe('buildImageLadder rejects hostile or broken uploads', () => {
  test('refuses a pixel bomb from its header alone', async () => {
    const { input, outDir } = await stage('bomb.png', makeHugePng(30000, 30000));
    await assertRejected(buildImageLadder(input, outDir, options), 'image_too_large');
  });

  test('refuses a truncated JPEG', async () => {
    const whole = await makeJpegWithGps(1200, 900, { lat: 1, lon: 1 });
    const { input, outDir } = await stage('truncated.jpg', whole.subarray(0, Math.floor(whole.length * 0.6)));
    await assertRejected(buildImageLadder(input, outDir, options), 'image_undecodable');
  });

  test('refuses bytes that are not an image', async () => {
    const { input, outDir } = await stage('garbage.jpg', Buffer.from('definitely not a picture'));
    await assertRejected(buildImageLadder(input, outDir, options), 'image_undecodable');
  });

  test('refuses formats outside the photo allowlist, such as SVG', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>');
    const { input, outDir } = await stage('drawing.svg', svg);
    await assertRejected(buildImageLadder(input, outDir, options), 'image_undecodable');
  });

  test('gives up on an image that decodes for longer than the time budget', async () => {
    // Ten gigapixels of zeros take seconds to inflate on any machine; libvips must stop at one.
    const { input, outDir } = await stage('slow.png', makeHugePng(100_000, 100_000));
    const started = performance.now();
    const slow = { ...options, maxInputPixels: 0, timeoutSeconds: 1 };
    await assertRejected(buildImageLadder(input, outDir, slow), 'image_timeout');
    assert.ok(performance.now() - started < 5000);
  });

  test('lets a missing input file through as an ordinary, retryable error', async () => {
    await assert.rejects(
      buildImageLadder(join(workDir, 'missing.jpg'), workDir, options),
      (error) => error instanceof Error && !(error instanceof ImageRejectedError),
    );
  });
});
