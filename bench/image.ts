import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startEmbeddedS3 } from '../deploy/s3/embedded/server.ts';
import { loadConfig } from '../platform/config.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { downloadAndHash } from '../worker/download.ts';
import { buildImageLadder, type ImageLadderOptions } from '../worker/image/ladder.ts';
import { processImage } from '../worker/image/process-image.ts';
import { makePhotoLikeJpeg, type PhotoOptions, printTable, timeInterleaved } from './lib.ts';
import { rawSharpLadder } from './raw-sharp.ts';

// Compares the worker with the straightforward sharp code for the same outputs (bench/raw-sharp.ts), at two
// depths: the ladder alone, and the worker's whole job on the photo (streamed download with SHA-256 from an
// S3 server, EXIF metadata, the ladder, uploads of every derivative), which is what a worker's throughput is.

const options: ImageLadderOptions = {
  widths: { low: 360, medium: 720, high: 1440 },
  thumbnailSize: 256,
  webpQuality: 80,
  // The raw sharp anchor builds WebP only; the AVIF siblings are measured by bench/image-formats.ts.
  avifQuality: 0,
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

const workDir = await mkdtemp(join(tmpdir(), 'bench-image-'));
const s3 = await startEmbeddedS3({
  dataDir: join(workDir, 's3'),
  accessKeyId: 'bench',
  secretAccessKey: 'bench-secret-key',
});
const storage = createS3Storage({
  endpoint: s3.endpoint,
  region: 'us-east-1',
  bucket: 'bench',
  accessKeyId: 'bench',
  secretAccessKey: 'bench-secret-key',
  forcePathStyle: true,
});
await storage.ensureBucket();
const config = { ...loadConfig({}), image: options, edgePublicUrl: 'http://edge' };

/** The worker's job minus the bus: download and hash, metadata, ladder, upload. */
async function workerJob(key: string, jobDir: string, n: number): Promise<void> {
  await mkdir(jobDir, { recursive: true });
  const original = join(jobDir, 'original');
  await downloadAndHash(storage, key, original);
  const request = {
    mediaId: 'bench',
    bucket: 'bench',
    objectKey: key,
    kind: 'image',
    contentType: 'image/jpeg',
  } as const;
  await processImage(
    { config, storage },
    { ...request, canonicalUrl: '', probe: {} },
    `run-${n}`,
    original,
    jobDir,
  );
}

try {
  console.log(
    `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${availableParallelism()} CPUs, ` +
      `libvips threads per image ${sharp.concurrency()}`,
  );
  const rows = [
    [
      'input',
      'ladder img/s',
      'job img/s',
      'sharp img/s',
      'ladder ratio',
      'job ratio',
      'ladder ms',
      'job ms',
      'sharp ms',
    ],
  ];
  for (const { label, width, height, photo, iterations } of inputs) {
    const input = join(workDir, `${width}x${height}.jpg`);
    const bytes = await makePhotoLikeJpeg(width, height, photo);
    await writeFile(input, bytes);
    const key = `raw/bench/${width}x${height}`;
    await storage.put(key, bytes, 'image/jpeg', bytes.length);
    let run = 0;
    const ours = join(workDir, 'ours');
    const baseline = join(workDir, 'sharp');
    await Promise.all([mkdir(ours, { recursive: true }), mkdir(baseline, { recursive: true })]);
    const timings = await timeInterleaved(
      {
        ours: () => buildImageLadder(input, ours, options),
        job: () => workerJob(key, join(workDir, 'job'), run++),
        sharp: () => rawSharpLadder(input, baseline, options),
      },
      iterations,
    );
    const ratio = (name: 'ours' | 'job') =>
      `${(timings[name].perSecond / timings.sharp.perSecond).toFixed(2)}x`;
    rows.push([
      label,
      timings.ours.perSecond.toFixed(2),
      timings.job.perSecond.toFixed(2),
      timings.sharp.perSecond.toFixed(2),
      ratio('ours'),
      ratio('job'),
      timings.ours.medianMs.toFixed(0),
      timings.job.medianMs.toFixed(0),
      timings.sharp.medianMs.toFixed(0),
    ]);
  }
  printTable(rows);
  console.log('ratio = ours / raw sharp images per second (higher is better); ms are medians of wall time.');
} finally {
  await s3.stop();
  await rm(workDir, { recursive: true, force: true });
}
