import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { option } from '../cli/args.ts';
import { signDevToken } from '../platform/auth/jwt.ts';
import { loadConfig } from '../platform/config.ts';
import { makePhotoLikeJpeg, printTable } from './lib.ts';
import { rawSharpInChild } from './load-anchor.ts';
import { allocatorEnv, type LoadStack, startDevStack, startFleetStack } from './load-stack.ts';
import { type RssSeries, sampleRss } from './process-rss.ts';

// Whole-system photo throughput, black box: concurrent uploaders send 2 MP photos through the API (create,
// PUT the part to storage, complete) and wait for each to be ready, against `npm start` (`--stack dev`) or
// the roles as separate processes (`--stack fleet --workers 2 [--bus kafka]`). The anchor, in the same run
// on the same files: raw sharp building the same ladder, as many at once as there are uploaders, in a process
// of its own with the stack's allocator settings (load-anchor.ts). Reports
// images/min of both, complete→ready p50/p95 (from the media's own status timestamps) and the RSS of each
// process over the run.
//
//   npm run bench:load -- [--stack dev|fleet] [--workers 2] [--bus embedded|kafka] [--uploaders 8]
//                         [--images 160] [--distinct 16] [--env K=V,…]

const args = process.argv.slice(2);
const stackKind = option(args, '--stack') ?? 'dev';
const uploaders = Number(option(args, '--uploaders') ?? 8);
const total = Number(option(args, '--images') ?? 160);
const distinct = Number(option(args, '--distinct') ?? 16);
const workers = Number(option(args, '--workers') ?? 2);
const bus = option(args, '--bus') === 'kafka' ? 'kafka' : 'embedded';
/** `--env K=V,K=V`: settings for the stack's processes (say MALLOC_ARENA_MAX=2); the anchor gets the MALLOC_ ones. */
const stackEnv = Object.fromEntries(
  (option(args, '--env') ?? '')
    .split(',')
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const warmup = uploaders * 2;
const clientPollMs = 250;
const ladder = loadConfig(stackEnv).image;

const workDir = await mkdtemp(join(tmpdir(), 'bench-load-'));
// Distinct photos (other seeds), so nothing is deduplicated and no encoder meets the same pixels twice.
const photos = await Promise.all(
  Array.from({ length: distinct }, (_, i) => makePhotoLikeJpeg(1600, 1200, { seed: i + 1 })),
);
const files = await Promise.all(
  photos.map(async (bytes, i) => {
    const path = join(workDir, `photo-${i}.jpg`);
    await writeFile(path, bytes);
    return path;
  }),
);

/** CPU the raw sharp anchor spent, summed over its runs, the images it built and its peak RSS. */
const anchorCpu = { ms: 0, images: 0, peakMb: 0 };
/** The anchor's allocator settings are the stack's, `--env` included (load-anchor.ts says why). */
const anchorEnv = {
  ...allocatorEnv,
  ...Object.fromEntries(Object.entries(stackEnv).filter(([key]) => key.startsWith('MALLOC_'))),
};

/** Images/min of raw sharp doing the ladder on the same files, `uploaders` at a time. */
async function rawSharpPerMinute(count: number): Promise<number> {
  const run = { files, count, lanes: uploaders, outDir: join(workDir, 'sharp'), ladder };
  const result = await rawSharpInChild(run, anchorEnv);
  anchorCpu.ms += result.cpuMs * count;
  anchorCpu.images += count;
  anchorCpu.peakMb = Math.max(anchorCpu.peakMb, result.peakMb);
  return result.perMinute;
}

/**
 * The photo with a JPEG comment of its own after the start marker: every upload holds distinct bytes, as real
 * uploads do. Repeated bytes made most results in a run take the deduplication path (the owner already had
 * a ready media with that hash), which costs the API more statements than an ordinary result.
 */
function uniqueCopy(jpeg: Buffer): Buffer {
  const text = Buffer.from(`bench ${randomUUID()}`);
  const marker = Buffer.alloc(4);
  marker.writeUInt16BE(0xfffe, 0);
  marker.writeUInt16BE(text.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), marker, text, jpeg.subarray(2)]);
}

interface Uploaded {
  mediaId: string;
  status: string;
}

async function call<T>(
  url: string,
  token: string,
  init: RequestInit = {},
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: response.status, body: (await response.json()) as T };
}

/**
 * One photo through the client flow, then polled until it leaves `processing`, every 250 ms as
 * `mediagate upload` does: at 50 ms eight uploaders' polls cost the API a quarter of its CPU, which no real
 * client would. Latency is read from the media's own transitions, so the interval does not enter it.
 */
async function uploadOne(stack: LoadStack, token: string, bytes: Buffer): Promise<Uploaded> {
  const created = await call<{ mediaId: string; uploadId: string; parts: { url: string }[] }>(
    `${stack.apiUrl}/v1/uploads`,
    token,
    {
      method: 'POST',
      body: JSON.stringify({ filename: 'photo.jpg', contentType: 'image/jpeg', size: bytes.length }),
    },
  );
  if (created.status !== 201)
    throw new Error(`create answered ${created.status}: ${JSON.stringify(created.body)}`);
  const [part] = created.body.parts;
  const put = await fetch(part?.url ?? '', { method: 'PUT', body: new Uint8Array(bytes) });
  await put.arrayBuffer();
  const etag = put.headers.get('etag') ?? '';
  const completed = await call(`${stack.apiUrl}/v1/uploads/${created.body.uploadId}/complete`, token, {
    method: 'POST',
    body: JSON.stringify({ parts: [{ partNumber: 1, etag }] }),
  });
  if (completed.status !== 202) throw new Error(`complete answered ${completed.status}`);
  for (;;) {
    const media = await call<{ status: string }>(`${stack.apiUrl}/v1/media/${created.body.mediaId}`, token);
    if (media.body.status !== 'processing')
      return { mediaId: created.body.mediaId, status: media.body.status };
    await new Promise((resolve) => setTimeout(resolve, clientPollMs));
  }
}

async function runUploads(
  stack: LoadStack,
  count: number,
  offset: number,
): Promise<{ perMinute: number; media: Uploaded[] }> {
  const media: Uploaded[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: uploaders }, async (_, lane) => {
      // One user per uploader: the per-user limits stay per user, as with real clients.
      const token = signDevToken(stack.jwtSecret, { sub: `loader-${lane}`, roles: [] }, 3600);
      for (let i = next++; i < count; i = next++) {
        media.push(await uploadOne(stack, token, uniqueCopy(photos[(offset + i) % photos.length] as Buffer)));
      }
    }),
  );
  return { perMinute: (count * 60_000) / (performance.now() - started), media };
}

/** complete→ready from the media's own transitions (processing at, ready at), as the ops trace records them. */
async function completeToReadyMs(stack: LoadStack, media: Uploaded[]): Promise<number[]> {
  const admin = signDevToken(stack.jwtSecret, { sub: 'bench-ops', roles: ['admin'] }, 3600);
  const latencies: number[] = [];
  for (const { mediaId } of media) {
    const trace = await call<{ events: { toStatus: string; at: string }[] }>(
      `${stack.apiUrl}/v1/ops/media/${mediaId}/trace`,
      admin,
    );
    if (trace.status !== 200)
      throw new Error(`trace answered ${trace.status}: ${JSON.stringify(trace.body)}`);
    const at = (status: string) => Date.parse(trace.body.events.find((e) => e.toStatus === status)?.at ?? '');
    latencies.push(at('ready') - at('processing'));
  }
  return latencies.sort((a, b) => a - b);
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? NaN;

/** Where the machine's time and memory went: each process's CPU per image and its RSS over the run. */
function processRows(series: RssSeries[], images: number): string[][] {
  return [
    ['process', 'CPU ms/image', 'start MB', 'max MB', 'end MB', 'over the run (every 5 s)'],
    ...series.map(({ name, samples, cpuSeconds }) => [
      name,
      ((cpuSeconds * 1000) / images).toFixed(0),
      String(samples[0] ?? 0),
      String(Math.max(...samples)),
      String(samples.at(-1) ?? 0),
      samples.filter((_, i) => i % 5 === 0).join(' '),
    ]),
  ];
}

const progress = (line: string) => process.stderr.write(`  ${line}\n`);

const stack =
  stackKind === 'fleet' ? await startFleetStack(workers, bus, stackEnv) : await startDevStack(stackEnv);
// Ctrl-C still stops what the bench started (PostgreSQL, the roles).
process.once('SIGINT', () => void stack.stop().finally(() => process.exit(130)));
try {
  console.log(
    `${stackKind === 'fleet' ? `fleet: api, edge, ${workers} workers, ${bus} bus` : 'npm start (mediagate dev)'}; ` +
      `${uploaders} uploaders, ${total} photos of 1600×1200 (${distinct} distinct); ` +
      `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}, ${availableParallelism()} CPUs`,
  );
  const warm = await runUploads(stack, warmup, 0);
  progress(`warm-up: ${warm.perMinute.toFixed(0)} images/min`);
  const sharpBefore = await rawSharpPerMinute(total / 2);
  progress(`raw sharp: ${sharpBefore.toFixed(0)} images/min`);
  // The bench process itself holds the clients and, on the fleet stack, the S3 server they upload to.
  const rss = sampleRss({ ...stack.processes, 'bench (clients, S3)': { pid: process.pid } });
  const run = await runUploads(stack, total, warmup);
  const series = rss.stop();
  progress(`mediagate: ${run.perMinute.toFixed(0)} images/min`);
  const sharpAfter = await rawSharpPerMinute(total / 2);
  progress(`raw sharp: ${sharpAfter.toFixed(0)} images/min`);
  const failed = run.media.filter((m) => m.status !== 'ready');
  if (failed.length > 0)
    throw new Error(`${failed.length} uploads did not become ready: ${JSON.stringify(failed[0])}`);
  const latencies = await completeToReadyMs(stack, run.media);
  const sharpPerMinute = (sharpBefore + sharpAfter) / 2;
  printTable([
    ['', 'images/min', 'vs raw sharp', 'complete→ready p50', 'p95'],
    [
      'mediagate',
      run.perMinute.toFixed(0),
      `${(run.perMinute / sharpPerMinute).toFixed(2)}x`,
      `${percentile(latencies, 0.5)} ms`,
      `${percentile(latencies, 0.95)} ms`,
    ],
    [
      'raw sharp',
      `${sharpPerMinute.toFixed(0)} (${sharpBefore.toFixed(0)}, ${sharpAfter.toFixed(0)})`,
      '',
      '',
      '',
    ],
  ]);
  console.log('');
  printTable(processRows(series, total));
  const stackCpu = series.reduce((sum, { cpuSeconds }) => sum + cpuSeconds, 0) * 1000;
  console.log(
    `\nCPU per image: the whole stack ${(stackCpu / total).toFixed(0)} ms (clients and test S3 included), ` +
      `raw sharp ${(anchorCpu.ms / anchorCpu.images).toFixed(0)} ms ` +
      `(in a process of its own with ${Object.entries(anchorEnv)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ')}, peaking at ${anchorCpu.peakMb} MB)`,
  );
} finally {
  await stack.stop();
  await rm(workDir, { recursive: true, force: true });
}
