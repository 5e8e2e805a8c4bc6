import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { MediaView } from '../contracts/media.ts';
import { MAX_ANIMATION_FRAMES } from '../worker/image/animation.ts';
import { codedImage, gridHeic, heifEnc } from '../worker/image/test-heif.ts';
import { writeHeic } from '../worker/image/test-heif-writer.ts';
import {
  makeAnimation,
  makeBareCmykJpeg,
  makeJpegWithGps,
  makeLargeJpeg,
  makePng16,
  makePngWithAlpha,
  makeProfiledJpeg,
} from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { type Client, createSession, sendAndComplete } from './photos.ts';

/**
 * The photo formats phones and browsers send, generated here, each uploaded through the whole flow
 * (gate, worker, results, edge) to `ready` with the rungs, sizes and orientation it should have, and
 * no metadata in what the edge serves. The ladder's details are unit-tested in worker/image.
 */

interface Case {
  name: string;
  contentType: string;
  bytes: () => Promise<Buffer>;
  /** Displayed size of the original. */
  size: [number, number];
  /** The `high` rung's format and size. */
  high: [string, number, number];
  avif: boolean;
  alpha?: boolean;
  animatedFrames?: number;
}

const gps = { lat: 48.8584, lon: 2.2945 };
const portraitHeic = async () =>
  writeHeic([{ coded: codedImage(await heifEnc(await makeJpegWithGps(480, 320, gps, 6))), rotate: 3 }]);

const corpus: Case[] = [
  {
    name: 'IMG_0001.HEIC',
    contentType: 'image/heic',
    bytes: portraitHeic,
    size: [320, 480],
    high: ['webp', 320, 480],
    avif: true,
  },
  {
    name: 'grid.heic',
    contentType: 'image/heic',
    bytes: async () =>
      writeHeic([
        {
          coded: await gridHeic(await makeJpegWithGps(1100, 600, gps), 512, { params: ['preset=ultrafast'] }),
        },
      ]),
    size: [1100, 600],
    high: ['webp', 1100, 600],
    avif: true,
  },
  {
    name: '444-q90.heic',
    contentType: 'image/heif',
    bytes: async () => heifEnc(await makeJpegWithGps(400, 304, gps), { quality: 90, params: ['chroma=444'] }),
    size: [400, 304],
    high: ['webp', 400, 304],
    avif: true,
  },
  {
    name: 'photo.avif',
    contentType: 'image/avif',
    bytes: async () => heifEnc(await makeJpegWithGps(640, 480, gps), { avif: true }),
    size: [640, 480],
    high: ['webp', 640, 480],
    avif: true,
  },
  {
    name: 'short.gif',
    contentType: 'image/gif',
    bytes: () => makeAnimation('gif', 200, 150, 10, 100, true),
    size: [200, 150],
    high: ['webp', 200, 150],
    avif: false,
    alpha: true,
    animatedFrames: 10,
  },
  {
    name: 'anim.webp',
    contentType: 'image/webp',
    bytes: () => makeAnimation('webp', 160, 120, 8, 60),
    size: [160, 120],
    high: ['webp', 160, 120],
    avif: false,
    animatedFrames: 8,
  },
  {
    name: 'long.gif',
    contentType: 'image/gif',
    bytes: () => makeAnimation('gif', 120, 90, MAX_ANIMATION_FRAMES + 10, 100),
    size: [120, 90],
    high: ['mp4', 120, 90],
    avif: false,
  },
  {
    name: 'rgba.png',
    contentType: 'image/png',
    bytes: () => makePngWithAlpha(300, 200),
    size: [300, 200],
    high: ['webp', 300, 200],
    avif: true,
    alpha: true,
  },
  {
    name: 'cmyk.jpg',
    contentType: 'image/jpeg',
    bytes: () => makeProfiledJpeg([200, 150, 120], 'cmyk'),
    size: [64, 64],
    high: ['webp', 64, 64],
    avif: true,
  },
  {
    name: 'bare-cmyk.jpg',
    contentType: 'image/jpeg',
    bytes: () => makeBareCmykJpeg([200, 150, 120]),
    size: [64, 64],
    high: ['webp', 64, 64],
    avif: true,
  },
  {
    name: 'deep.png',
    contentType: 'image/png',
    bytes: () => makePng16(256, 128),
    size: [256, 128],
    high: ['webp', 256, 128],
    avif: true,
  },
  {
    name: 'p3.jpg',
    contentType: 'image/jpeg',
    bytes: () => makeProfiledJpeg([255, 0, 0], 'p3'),
    size: [64, 64],
    high: ['webp', 64, 64],
    avif: true,
  },
  {
    name: 'strip.png',
    contentType: 'image/png',
    bytes: () =>
      sharp({ create: { width: 1, height: 10_000, channels: 3, background: '#369' } })
        .png()
        .toBuffer(),
    size: [1, 10_000],
    high: ['webp', 1, 10_000],
    avif: true,
  },
  {
    name: 'panorama.jpg',
    contentType: 'image/jpeg',
    bytes: () => makeLargeJpeg(12_000, 9_000),
    size: [12_000, 9_000],
    high: ['webp', 1440, 1080],
    avif: true,
  },
];

let platform: Platform;
const results = new Map<string, MediaView>();
const alice = () => apiClient(platform, platform.token('alice'));

before(async () => {
  platform = await startPlatform({ s3: 'embedded' });
  const client = alice();
  // Two at a time: the worker's concurrency, and gentle on a shared CI machine.
  for (let i = 0; i < corpus.length; i += 2) {
    await Promise.all(
      corpus.slice(i, i + 2).map(async (c) => {
        const bytes = await c.bytes();
        results.set(c.name, await upload(client, c, bytes));
      }),
    );
  }
});
after(() => platform?.stop());

async function upload(client: Client, c: Case, bytes: Buffer): Promise<MediaView> {
  const created = await createSession(client, bytes, { filename: c.name, contentType: c.contentType });
  assert.equal(created.status, 201, `${c.name}: ${JSON.stringify(created.body)}`);
  const completed = await sendAndComplete(client, created.body, bytes);
  assert.equal(completed.status, 202, `${c.name}: ${JSON.stringify(completed.body)}`);
  try {
    return await client.waitForMedia(created.body.mediaId, (m) => m.status !== 'processing');
  } catch (error) {
    throw new Error(
      `${c.name}: ${String(error)}\nworker: ${platform.roles.api.output
        .filter((l) => !l.includes('"level":30'))
        .slice(-8)
        .join('\n')}`,
    );
  }
}

async function throughEdge(url: string, accept?: string): Promise<{ bytes: Buffer; redirect: Response }> {
  const redirect = await fetch(url, {
    redirect: 'manual',
    headers: { authorization: `Bearer ${platform.token('alice')}`, ...(accept ? { accept } : {}) },
  });
  assert.equal(redirect.status, 302, `edge answered ${redirect.status} for ${url}`);
  const object = await fetch(redirect.headers.get('location') ?? '');
  assert.equal(object.status, 200);
  return { bytes: Buffer.from(await object.arrayBuffer()), redirect };
}

for (const c of corpus) {
  test(`${c.name} → ready, ${c.high.join(' ')} at the top, no metadata served`, async () => {
    const media = results.get(c.name);
    assert.ok(media);
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    assert.deepEqual([media.metadata?.width, media.metadata?.height], c.size);
    const high = media.variants.find((v) => v.quality === 'high');
    assert.ok(high);
    assert.deepEqual([high.format, high.width, high.height], c.high);
    const qualities = new Set(media.variants.map((v) => v.quality));
    assert.ok(qualities.has('thumbnail'), `thumbnail missing from ${[...qualities]}`);
    assert.equal(
      media.variants.some((v) => v.format === 'avif'),
      false,
      'the view names WebP rungs only',
    );
    for (const variant of media.variants.filter((v) => v.format !== 'mp4')) {
      // Each WebP rung is served as itself, and as its AVIF sibling to a client that accepts AVIF.
      const accepts = c.avif && variant.format === 'webp' ? [undefined, 'image/avif'] : [undefined];
      for (const accept of accepts) {
        const served = `${variant.quality}${accept ? ' (AVIF)' : ''}`;
        const { bytes } = await throughEdge(variant.url, accept);
        const meta = await sharp(bytes, { animated: true }).metadata();
        assert.equal(meta.format, accept ? 'heif' : 'webp', served);
        assert.equal(meta.exif, undefined, `${served} carries EXIF`);
        assert.equal(meta.xmp, undefined, `${served} carries XMP`);
        assert.equal(meta.icc, undefined, `${served} carries an ICC profile`);
        assert.equal(meta.width, variant.width, served);
        if (variant.quality === 'high' && c.animatedFrames) assert.equal(meta.pages, c.animatedFrames);
        if (c.alpha && ['high', 'thumbnail'].includes(variant.quality)) assert.equal(meta.hasAlpha, true);
      }
    }
  });
}

test('HEIC: the owner sees the capture time and GPS; a portrait shot stays portrait', async () => {
  const media = results.get('IMG_0001.HEIC');
  assert.ok(media?.metadata);
  assert.equal(media.metadata.format, 'heif');
  assert.equal(media.metadata.capturedAt, '2024-05-06T07:08:09+02:00');
  const found = media.metadata.gps as { lat: number; lon: number };
  assert.ok(Math.abs(found.lat - gps.lat) < 1e-4 && Math.abs(found.lon - gps.lon) < 1e-4);
});

test('the edge sends clients that accept AVIF to the AVIF rung, others to WebP, and says it varies', async () => {
  const media = results.get('photo.avif');
  const high = media?.variants.find((v) => v.quality === 'high');
  assert.ok(high);
  const avif = await throughEdge(high.url, 'image/avif,image/webp,image/*,*/*;q=0.8');
  assert.equal((await sharp(avif.bytes).metadata()).format, 'heif');
  assert.match(avif.redirect.headers.get('vary') ?? '', /accept/i);
  const webp = await throughEdge(high.url, 'image/webp,image/*,*/*;q=0.8');
  assert.equal((await sharp(webp.bytes).metadata()).format, 'webp');
  assert.match(webp.redirect.headers.get('vary') ?? '', /accept/i);
  const gif = results.get('short.gif')?.variants.find((v) => v.quality === 'high');
  assert.ok(gif);
  const animated = await throughEdge(gif.url, 'image/avif');
  assert.equal((await sharp(animated.bytes).metadata()).format, 'webp', 'no AVIF sibling: WebP it is');
});
