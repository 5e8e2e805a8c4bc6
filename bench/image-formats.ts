import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { buildImageLadder, type ImageLadderOptions } from '../worker/image/ladder.ts';
import { heifEnc } from '../worker/image/test-heif.ts';
import { makePhotoLikeJpeg, printTable, timeInterleaved } from './lib.ts';
import { rawSharpLadder } from './raw-sharp.ts';

// Two figures issue 14 asks for, run by `npm run bench:image` after the JPEG table:
// 1. A 12 MP HEIC through the worker's ladder (libheif decode to PNG, then the ladder) against the same
//    WebP ladder done by raw sharp on the already-decoded image: what HEIC costs over a decoded photo.
// 2. AVIF's byte savings over WebP at matched quality: for each rung size, WebP at IMAGE_WEBP_QUALITY,
//    then the lowest AVIF quality (effort 0, as the worker encodes) whose SSIM reaches WebP's. SSIM is the
//    mean over 8×8 blocks of the luma plane (BT.601 weights, no Gaussian window), against the resized
//    pixels both encoders started from.

const run = promisify(execFile);
const options: ImageLadderOptions = {
  widths: { low: 360, medium: 720, high: 1440 },
  thumbnailSize: 256,
  webpQuality: 80,
  avifQuality: 0,
  maxInputPixels: 120_000_000,
  timeoutSeconds: 120,
};

const workDir = await mkdtemp(join(tmpdir(), 'bench-formats-'));
try {
  await heicLadder();
  await avifSavings();
} finally {
  await rm(workDir, { recursive: true, force: true });
}

async function heicLadder(): Promise<void> {
  const jpeg = await makePhotoLikeJpeg(4032, 3024, {});
  // x265's ultrafast preset keeps the fixture quick to make; decoding cost hardly depends on the preset.
  const heic = join(workDir, 'photo.heic');
  await writeFile(heic, await heifEnc(jpeg, { quality: 50, params: ['preset=ultrafast'] }));
  const decoded = join(workDir, 'decoded.png');
  await run('heif-convert', ['--quiet', heic, decoded]);
  const [ours, anchor] = [join(workDir, 'ours'), join(workDir, 'anchor')];
  await Promise.all([mkdir(ours), mkdir(anchor)]);
  const timings = await timeInterleaved(
    {
      heic: () => buildImageLadder(heic, ours, options),
      decodeOnly: () => run('heif-thumbnailer', ['-p', '-s', '4032', heic, join(workDir, 'only.png')]),
      sharp: () => rawSharpLadder(decoded, anchor, options),
    },
    3,
  );
  printTable([
    ['12 MP HEIC', 'img/s', 'median ms', 'ratio to raw sharp on the decoded PNG'],
    ...(['heic', 'decodeOnly', 'sharp'] as const).map((name) => [
      {
        heic: 'worker ladder from HEIC',
        decodeOnly: 'libheif decode → PNG alone',
        sharp: 'raw sharp ladder, decoded',
      }[name],
      timings[name].perSecond.toFixed(2),
      timings[name].medianMs.toFixed(0),
      `${(timings[name].perSecond / timings.sharp.perSecond).toFixed(2)}x`,
    ]),
  ]);
}

async function avifSavings(): Promise<void> {
  const rows = [
    [
      'rung',
      'WebP bytes',
      'WebP SSIM',
      'AVIF q',
      'AVIF bytes',
      'AVIF SSIM',
      'saved',
      'q50 bytes',
      'q50 SSIM',
    ],
  ];
  const photo = await makePhotoLikeJpeg(4032, 3024, {});
  let webpTotal = 0;
  let avifTotal = 0;
  for (const width of [360, 720, 1440]) {
    const { data, info } = await sharp(photo).resize({ width }).raw().toBuffer({ resolveWithObject: true });
    const raw = { width: info.width, height: info.height, channels: info.channels };
    const reference = luma(data, info.channels);
    const measure = async (encoded: Buffer) => {
      const back = await sharp(encoded).removeAlpha().raw().toBuffer();
      return ssim(reference, luma(back, 3), info.width, info.height);
    };
    const webp = await sharp(data, { raw }).webp({ quality: options.webpQuality }).toBuffer();
    const target = await measure(webp);
    const avifAt = (quality: number) => sharp(data, { raw }).avif({ quality, effort: 0 }).toBuffer();
    let [low, high] = [1, 100];
    while (low < high) {
      const mid = Math.floor((low + high) / 2);
      if ((await measure(await avifAt(mid))) >= target) high = mid;
      else low = mid + 1;
    }
    const matched = await avifAt(low);
    const fifty = await avifAt(50);
    webpTotal += webp.length;
    avifTotal += matched.length;
    rows.push([
      `${info.width}×${info.height}`,
      String(webp.length),
      target.toFixed(4),
      String(low),
      String(matched.length),
      (await measure(matched)).toFixed(4),
      `${(100 * (1 - matched.length / webp.length)).toFixed(0)}%`,
      String(fifty.length),
      (await measure(fifty)).toFixed(4),
    ]);
  }
  printTable(rows);
  console.log(
    `AVIF at matched SSIM: ${(100 * (1 - avifTotal / webpTotal)).toFixed(0)}% fewer bytes than WebP q${options.webpQuality} over the three rungs.`,
  );
}

function luma(pixels: Buffer, channels: number): Float64Array {
  const out = new Float64Array(pixels.length / channels);
  for (let i = 0; i < out.length; i++) {
    const at = i * channels;
    out[i] = 0.299 * (pixels[at] ?? 0) + 0.587 * (pixels[at + 1] ?? 0) + 0.114 * (pixels[at + 2] ?? 0);
  }
  return out;
}

/** Mean SSIM over non-overlapping 8×8 blocks (Wang et al. 2004 constants for 8-bit data). */
function ssim(a: Float64Array, b: Float64Array, width: number, height: number): number {
  const [c1, c2] = [(0.01 * 255) ** 2, (0.03 * 255) ** 2];
  let total = 0;
  let blocks = 0;
  for (let y = 0; y + 8 <= height; y += 8) {
    for (let x = 0; x + 8 <= width; x += 8) {
      let [sa, sb, saa, sbb, sab] = [0, 0, 0, 0, 0];
      for (let dy = 0; dy < 8; dy++) {
        for (let dx = 0; dx < 8; dx++) {
          const i = (y + dy) * width + x + dx;
          const [va, vb] = [a[i] ?? 0, b[i] ?? 0];
          sa += va;
          sb += vb;
          saa += va * va;
          sbb += vb * vb;
          sab += va * vb;
        }
      }
      const [ma, mb] = [sa / 64, sb / 64];
      const [va, vb, cov] = [saa / 64 - ma * ma, sbb / 64 - mb * mb, sab / 64 - ma * mb];
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
      blocks += 1;
    }
  }
  return total / blocks;
}
