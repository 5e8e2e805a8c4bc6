import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { MAX_ANIMATION_FRAMES } from './animation.ts';
import {
  buildImageLadder,
  type ImageDerivative,
  type ImageLadder,
  type ImageLadderOptions,
} from './ladder.ts';
import { codedImage, gridHeic, heifEnc } from './test-heif.ts';
import { writeHeic } from './test-heif-writer.ts';
import {
  adobeRgbProfile,
  makeAnimation,
  makeBareCmykJpeg,
  makeJpegWithGps,
  makePng16,
  makePngWithAlpha,
  makeProfiledJpeg,
} from './test-images.ts';

/** What phones and browsers send besides JPEG: each through the ladder, checked on the pixels it made. */

const options: ImageLadderOptions = {
  widths: { low: 360, medium: 720, high: 1440 },
  thumbnailSize: 256,
  webpQuality: 80,
  avifQuality: 50,
  maxInputPixels: 120_000_000,
  timeoutSeconds: 60,
};

let workDir: string;
before(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'formats-test-'));
});
after(async () => {
  await rm(workDir, { recursive: true, force: true });
});

async function ladderOf(name: string, bytes: Buffer, opts = options): Promise<ImageLadder> {
  const input = join(workDir, name);
  const outDir = join(workDir, `${name}-out`);
  await writeFile(input, bytes);
  await mkdir(outDir);
  return buildImageLadder(input, outDir, opts);
}

function rung(ladder: ImageLadder, quality: string, format = 'webp'): ImageDerivative {
  const found = ladder.derivatives.find((d) => d.quality === quality && d.format === format);
  assert.ok(found, `no ${quality} ${format} in ${ladder.derivatives.map((d) => `${d.quality}.${d.format}`)}`);
  return found;
}

/** Mean colour of the middle of an output, as 8-bit sRGB. */
async function centreColour(path: string): Promise<number[]> {
  const { width = 0, height = 0 } = await sharp(path).metadata();
  const side = Math.max(1, Math.floor(Math.min(width, height) / 4));
  const { channels } = await sharp(path)
    .extract({
      left: Math.floor((width - side) / 2),
      top: Math.floor((height - side) / 2),
      width: side,
      height: side,
    })
    .stats();
  return channels.slice(0, 3).map((c) => Math.round(c.mean));
}

function assertNear(actual: number[], expected: number[], tolerance: number, what: string): void {
  const worst = Math.max(...actual.map((v, i) => Math.abs(v - (expected[i] ?? 0))));
  assert.ok(worst <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);
}

async function assertNoMetadata(derivative: ImageDerivative): Promise<void> {
  const meta = await sharp(await readFile(derivative.path)).metadata();
  assert.equal(meta.exif, undefined, `${derivative.quality}.${derivative.format} carries EXIF`);
  assert.equal(meta.xmp, undefined, `${derivative.quality}.${derivative.format} carries XMP`);
}

describe('HEIC (HEVC in HEIF, decoded by libheif)', () => {
  test('an iPhone-style portrait (irot + EXIF orientation 6 + GPS) comes out upright once, without metadata', async () => {
    const jpeg = await makeJpegWithGps(480, 320, { lat: 48.8584, lon: 2.2945 }, 6);
    const heic = writeHeic([{ coded: codedImage(await heifEnc(jpeg)), rotate: 3 }]);
    const ladder = await ladderOf('portrait.heic', heic);
    assert.deepEqual([ladder.width, ladder.height], [320, 480]);
    assert.deepEqual([rung(ladder, 'high').width, rung(ladder, 'high').height], [320, 480]);
    assert.deepEqual([rung(ladder, 'high', 'avif').width, rung(ladder, 'high', 'avif').height], [320, 480]);
    for (const d of ladder.derivatives) await assertNoMetadata(d);
  });

  test('a 512-tile grid as phones write it is reassembled and cropped to its size', async () => {
    const jpeg = await makeJpegWithGps(700, 530, { lat: 1, lon: 2 });
    const heic = writeHeic([{ coded: await gridHeic(jpeg, 512, { params: ['preset=ultrafast'] }) }]);
    const ladder = await ladderOf('grid.heic', heic);
    assert.deepEqual([rung(ladder, 'high').width, rung(ladder, 'high').height], [700, 530]);
    // The seams between tiles must hold the source's colours, not the padding's or black.
    assertNear(
      await centreColour(rung(ladder, 'high').path),
      await centreColour(await writeTemp('grid.jpg', jpeg)),
      12,
      'grid centre',
    );
  });

  test('a burst uses its primary image, not its first', async () => {
    const black = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#000' } })
      .jpeg()
      .toBuffer();
    const red = await sharp({ create: { width: 96, height: 64, channels: 3, background: '#d02020' } })
      .jpeg()
      .toBuffer();
    const heic = writeHeic(
      [{ coded: codedImage(await heifEnc(black)) }, { coded: codedImage(await heifEnc(red)) }],
      1,
    );
    const ladder = await ladderOf('burst.heic', heic);
    assert.deepEqual([ladder.width, ladder.height], [96, 64]);
    assertNear(await centreColour(rung(ladder, 'high').path), [208, 32, 32], 10, 'primary image colour');
  });

  test('4:4:4 at high quality and 10-bit from a 16-bit PNG decode to 8-bit sRGB', async () => {
    const settings = [
      {
        name: '444.heic',
        input: await makeJpegWithGps(200, 150, { lat: 0, lon: 0 }),
        enc: { quality: 90, params: ['chroma=444'] },
      },
      { name: '10bit.heic', input: await makePng16(200, 150), enc: { bitDepth: 10 } },
    ];
    for (const { name, input, enc } of settings) {
      const ladder = await ladderOf(name, await heifEnc(input, enc));
      const meta = await sharp(rung(ladder, 'high').path).metadata();
      assert.deepEqual([meta.width, meta.height, meta.depth], [200, 150, 'uchar'], name);
    }
  });

  test('transparency survives, thumbnails included', async () => {
    const ladder = await ladderOf('alpha.heic', await heifEnc(await makePngWithAlpha(240, 160)));
    for (const quality of ['high', 'thumbnail']) {
      const { data } = await sharp(rung(ladder, quality).path).raw().toBuffer({ resolveWithObject: true });
      assert.equal((await sharp(rung(ladder, quality).path).metadata()).hasAlpha, true, quality);
      assert.equal(data[3], 0, `${quality}: the left edge stays fully transparent`);
    }
  });
});

async function writeTemp(name: string, bytes: Buffer): Promise<string> {
  const path = join(workDir, name);
  await writeFile(path, bytes);
  return path;
}

describe('AVIF', () => {
  test('AVIF in decodes; every WebP rung has an AVIF sibling of the same size, and the photo costs fewer bytes', async () => {
    const jpeg = await makeJpegWithGps(800, 600, { lat: 1, lon: 2 }, 1, true);
    const ladder = await ladderOf('in.avif', await heifEnc(jpeg, { avif: true, quality: 80 }));
    for (const quality of ['low', 'medium', 'high', 'thumbnail']) {
      const [webp, avif] = [rung(ladder, quality), rung(ladder, quality, 'avif')];
      assert.deepEqual([avif.width, avif.height], [webp.width, webp.height], quality);
      assert.equal((await sharp(avif.path).metadata()).format, 'heif');
      await assertNoMetadata(avif);
    }
    assert.ok(rung(ladder, 'high', 'avif').bytes < rung(ladder, 'high').bytes);
  });

  test('IMAGE_AVIF_QUALITY=0 builds WebP only', async () => {
    const ladder = await ladderOf('webp-only.png', await makePngWithAlpha(100, 80), {
      ...options,
      avifQuality: 0,
    });
    assert.deepEqual(new Set(ladder.derivatives.map((d) => d.format)), new Set(['webp']));
  });
});

describe('animation', () => {
  test('a short GIF becomes an animated WebP ladder with a still poster and thumbnail; alpha kept', async () => {
    const ladder = await ladderOf('short.gif', await makeAnimation('gif', 240, 180, 12, 80, true));
    const high = await sharp(rung(ladder, 'high').path, { animated: true }).metadata();
    assert.equal(high.pages, 12);
    assert.deepEqual(high.delay, Array(12).fill(80));
    assert.deepEqual([rung(ladder, 'high').width, rung(ladder, 'high').height], [240, 180]);
    assert.equal(high.hasAlpha, true);
    for (const still of ['poster', 'thumbnail']) {
      assert.equal((await sharp(rung(ladder, still).path).metadata()).pages ?? 1, 1, still);
    }
  });

  test('a long GIF becomes a short MP4, with its poster', async () => {
    const ladder = await ladderOf(
      'long.gif',
      await makeAnimation('gif', 160, 120, MAX_ANIMATION_FRAMES + 30, 100),
    );
    const video = rung(ladder, 'high', 'mp4');
    assert.deepEqual([video.width, video.height, video.contentType], [160, 120, 'video/mp4']);
    const head = (await readFile(video.path)).subarray(4, 8).toString('latin1');
    assert.equal(head, 'ftyp');
    assert.ok(rung(ladder, 'poster'));
  });

  test('a long animated WebP keeps its leading frames within the bounds', async () => {
    const ladder = await ladderOf(
      'long.webp',
      await makeAnimation('webp', 64, 48, MAX_ANIMATION_FRAMES + 20, 40),
    );
    const pages = (await sharp(rung(ladder, 'high').path, { animated: true }).metadata()).pages;
    assert.equal(pages, MAX_ANIMATION_FRAMES);
  });
});

describe('colour', () => {
  test('Display P3, Adobe RGB and CMYK (profiled or bare) reach sRGB: a colour patch within tolerance', async () => {
    const cases = [
      {
        name: 'p3.jpg',
        bytes: await makeProfiledJpeg([255, 0, 0], 'p3'),
        expected: [255, 0, 0],
        untouched: [234, 51, 35],
      },
      {
        name: 'adobe-rgb.jpg',
        bytes: await makeProfiledJpeg([40, 180, 90], await writeTemp('adobe-rgb.icc', adobeRgbProfile())),
        expected: [40, 180, 90],
        untouched: [106, 179, 97],
      },
      // CMYK has no exact round trip (ink limits, black generation): a wider tolerance.
      { name: 'cmyk.jpg', bytes: await makeProfiledJpeg([200, 150, 120], 'cmyk'), expected: [200, 150, 120] },
      { name: 'bare-cmyk.jpg', bytes: await makeBareCmykJpeg([200, 150, 120]), expected: [200, 150, 120] },
    ];
    for (const { name, bytes, expected, untouched } of cases) {
      const colour = await centreColour(rung(await ladderOf(name, bytes), 'high').path);
      assertNear(colour, expected, untouched ? 6 : 12, name);
      // The wide-gamut numbers shown as if they were sRGB would be this far off.
      const gap = Math.max(...colour.map((v, i) => Math.abs(v - (untouched?.[i] ?? v))));
      if (untouched) assert.ok(gap > 15, `${name} was not converted`);
    }
  });

  test('a 16-bit PNG becomes 8-bit with the right values', async () => {
    const ladder = await ladderOf('deep.png', await makePng16(128, 64, 0x8080));
    const { data, info } = await sharp(rung(ladder, 'high').path).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 3);
    assertNear([data[1] ?? 0], [128], 2, 'green');
    assertNear([data[0] ?? 0, data[(info.width - 1) * 3] ?? 0], [0, 255], 4, 'red ramp ends');
  });

  test('a 1×10000 strip keeps its shape in every rung', async () => {
    const strip = await sharp({ create: { width: 1, height: 10_000, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const ladder = await ladderOf('strip.png', strip);
    assert.deepEqual([rung(ladder, 'high').width, rung(ladder, 'high').height], [1, 10_000]);
    assert.deepEqual([rung(ladder, 'thumbnail').width, rung(ladder, 'thumbnail').height], [1, 1]);
  });
});
