import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { rgbaToThumbHash } from 'thumbhash';
import { buildImageLadder, type ImageLadderOptions } from '../worker/image/ladder.ts';
import { makePhotoLikeJpeg, type PhotoOptions, printTable, timeInterleaved } from './lib.ts';

// Compares worker/image/ladder.ts with the straightforward sharp code for the same outputs:
// one pipeline per output, all started at once, each decoding the file again.

const options: ImageLadderOptions = {
  widths: { low: 360, medium: 720, high: 1440 },
  thumbnailSize: 256,
  webpQuality: 80,
  maxInputPixels: 100_000_000,
  timeoutSeconds: 60,
};

const inputs: { label: string; width: number; height: number; photo: PhotoOptions; iterations: number }[] = [
  { label: '2 MP, upright, no profile', width: 1600, height: 1200, photo: {}, iterations: 10 },
  {
    label: '12 MP, orientation 6, Display P3',
    width: 4000,
    height: 3000,
    photo: { orientation: 6, iccProfile: 'p3' },
    iterations: 5,
  },
];

async function rawSharpLadder(input: string, outDir: string): Promise<string> {
  const webp = { quality: options.webpQuality };
  const placeholder = sharp(input)
    .rotate()
    .resize(100, 100, { fit: 'inside' })
    .ensureAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true })
    .then(({ data, info }) => Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64'));
  await Promise.all([
    ...Object.entries(options.widths).map(([quality, width]) =>
      sharp(input)
        .rotate()
        .resize({ width, withoutEnlargement: true })
        .webp(webp)
        .toFile(join(outDir, `${quality}.webp`)),
    ),
    sharp(input)
      .rotate()
      .resize(options.thumbnailSize, options.thumbnailSize, { fit: 'cover', position: 'attention' })
      .webp(webp)
      .toFile(join(outDir, 'thumbnail.webp')),
    placeholder,
  ]);
  return placeholder;
}

const workDir = await mkdtemp(join(tmpdir(), 'bench-image-'));
try {
  console.log(
    `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${availableParallelism()} CPUs, ` +
      `libvips threads per image ${sharp.concurrency()}`,
  );
  const rows = [
    ['input', 'ours img/s', 'sharp img/s', 'ratio', 'ours ms', 'sharp ms', 'ours CPU ms', 'sharp CPU ms'],
  ];
  for (const { label, width, height, photo, iterations } of inputs) {
    const input = join(workDir, `${width}x${height}.jpg`);
    await writeFile(input, await makePhotoLikeJpeg(width, height, photo));
    const ours = join(workDir, 'ours');
    const baseline = join(workDir, 'sharp');
    await Promise.all([mkdir(ours, { recursive: true }), mkdir(baseline, { recursive: true })]);
    const timings = await timeInterleaved(
      {
        ours: () => buildImageLadder(input, ours, options),
        sharp: () => rawSharpLadder(input, baseline),
      },
      iterations,
    );
    rows.push([
      label,
      timings.ours.perSecond.toFixed(2),
      timings.sharp.perSecond.toFixed(2),
      `${(timings.ours.perSecond / timings.sharp.perSecond).toFixed(2)}x`,
      timings.ours.medianMs.toFixed(0),
      timings.sharp.medianMs.toFixed(0),
      timings.ours.cpuMsPerIteration.toFixed(0),
      timings.sharp.cpuMsPerIteration.toFixed(0),
    ]);
  }
  printTable(rows);
  console.log('ratio = ours / sharp images per second (higher is better); ms are medians of wall time.');
} finally {
  await rm(workDir, { recursive: true, force: true });
}
