import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MediaView } from '../contracts/media.ts';
import { loadConfig } from '../platform/config.ts';
import { apiClient, uploadBytes } from '../test/client.ts';
import { type Platform, startPlatform } from '../test/harness.ts';
import { type RoleProcess, spawnRole } from '../test/processes.ts';
import { ffprobeFile } from '../worker/ffmpeg/probe.ts';
import { planVideo, rungsOf } from '../worker/video/plan.ts';
import { printTable } from './lib.ts';

/**
 * Chunked video on the fleet (separate api, edge and worker processes on Kafka, VIDEO_CHUNK_SECONDS at its
 * default): for 1080p sources of each length, with one worker and then two, the time from `complete` until
 * the lowest rung plays through the edge (its master, its EVENT playlist and first segment answered), the
 * time until `ready`, and the workers' CPU (their own and their ffmpeg children's), against the CPU of the
 * plain ffmpeg commands for the same ladder in the same run, one whole-file encode per rung.
 */

interface Row {
  seconds: number;
  workers: number;
  firstPlayableMs: number;
  readyMs: number;
  cpuSeconds: number;
  rawCpuSeconds: number;
}

const CLOCK_TICKS = 100;

/** utime + stime + cutime + cstime: the process's CPU and that of the children it has reaped (ffmpeg). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / CLOCK_TICKS;
}

function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}`))));
  });
}

/** A 1080p30 H.264/AAC source of `seconds`, moov at the end as cameras write it; generated once. */
async function source(seconds: number): Promise<string> {
  const path = join(tmpdir(), `mediagate-bench-video-1080p-${seconds}s.mp4`);
  if (
    await access(path).then(
      () => true,
      () => false,
    )
  )
    return path;
  console.log(`generating ${path} (once)…`);
  const partial = `${path}.partial.mp4`;
  await ffmpeg([
    ...['-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=30:duration=${seconds}`],
    ...['-f', 'lavfi', '-i', `sine=frequency=440:duration=${seconds}`],
    ...[
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-b:v',
      '6M',
      '-pix_fmt',
      'yuv420p',
      '-c:a',
      'aac',
      '-b:a',
      '128k',
    ],
    partial,
  ]);
  await rename(partial, path);
  return path;
}

/**
 * CPU of the plain ffmpeg commands for the same outputs, one after another: poster, each rung encoded from
 * the whole file, thumbnails, and each rung's HLS segments cut from its MP4 by stream copy.
 */
async function rawLadderCpu(path: string, work: string): Promise<number> {
  const plan = planVideo(await ffprobeFile(path), { ladder: rungsOf(loadConfig().video.ladder) });
  const before = childrenCpu();
  const still = (at: number, width: number, height: number, out: string) =>
    ffmpeg([
      '-ss',
      String(at),
      '-i',
      path,
      '-frames:v',
      '1',
      '-vf',
      `scale=${width}:${height}`,
      '-c:v',
      'libwebp',
      out,
    ]);
  await still(plan.poster.atSeconds, plan.poster.width, plan.poster.height, join(work, 'poster.webp'));
  for (const rendition of plan.renditions)
    await ffmpeg(['-i', path, ...rendition.outputArgs, join(work, `${rendition.quality}.mp4`)]);
  for (const [i, at] of plan.thumbnails.atSeconds.entries())
    await still(at, plan.thumbnails.width, plan.thumbnails.height, join(work, `thumbnail-${i + 1}.webp`));
  for (const rendition of plan.renditions) {
    const variant = join(work, 'hls', rendition.quality);
    await mkdir(variant, { recursive: true });
    await ffmpeg([
      ...['-i', join(work, `${rendition.quality}.mp4`), '-c', 'copy', '-f', 'hls', '-hls_time', '6'],
      ...['-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4'],
      ...['-hls_segment_filename', join(variant, 'seg_%03d.m4s'), join(variant, 'index.m3u8')],
    ]);
  }
  const cpu = childrenCpu() - before;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  return cpu;
}

function childrenCpu(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

/** The lowest rung plays through the edge: the master, its first variant and that variant's first segment. */
async function playable(masterUrl: string): Promise<boolean> {
  const firstReference = async (url: string | undefined) => {
    if (!url) return undefined;
    const reply = await fetch(url);
    return reply.ok ? (await reply.text()).split('\n').find((line) => line.startsWith('http')) : undefined;
  };
  const segmentUrl = await firstReference(await firstReference(masterUrl));
  if (!segmentUrl) return false;
  const segment = await fetch(segmentUrl);
  return segment.ok && (await segment.arrayBuffer()).byteLength > 0;
}

async function measure(
  platform: Platform,
  workers: RoleProcess[],
  path: string,
  user: string,
  untilReady: boolean,
) {
  const client = apiClient(platform, platform.token(user));
  const bytes = await readFile(path);
  const cpuBefore = workers.reduce((sum, w) => sum + cpuSeconds(w.child.pid as number), 0);
  const { mediaId, complete } = await uploadBytes(client, bytes, 'video/mp4');
  if (complete.status !== 202) throw new Error(`complete answered ${complete.status}`);
  const completedAt = performance.now();
  let firstPlayableMs = Number.NaN;
  for (;;) {
    const { body } = await client.get<MediaView>(`/v1/media/${mediaId}`);
    const hls = body.variants.find((v) => v.quality === 'hls');
    if (Number.isNaN(firstPlayableMs) && hls && (await playable(hls.url)))
      firstPlayableMs = performance.now() - completedAt;
    if (!untilReady && !Number.isNaN(firstPlayableMs))
      return { firstPlayableMs, readyMs: Number.NaN, cpuSeconds: Number.NaN };
    if (body.status !== 'processing') {
      if (body.status !== 'ready')
        throw new Error(`media ${mediaId} ended ${body.status}: ${JSON.stringify(body.failure)}`);
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const readyMs = performance.now() - completedAt;
  const cpu = workers.reduce((sum, w) => sum + cpuSeconds(w.child.pid as number), 0) - cpuBefore;
  return { firstPlayableMs, readyMs, cpuSeconds: cpu };
}

export interface FleetOptions {
  /** Worker processes per round, e.g. [1, 2]. */
  workerCounts: number[];
  /**
   * Longer sources are measured to first playable only, after every other case, with every worker started:
   * their full encode would take most of the run (its CPU ratio is the shorter sources').
   */
  readyUpToSeconds: number;
}

export async function fleetTable(sizes: number[], options: FleetOptions): Promise<void> {
  const sources = new Map<number, string>();
  for (const seconds of sizes) sources.set(seconds, await source(seconds));
  const work = await mkdtemp(join(tmpdir(), 'bench-video-fleet-'));
  const platform = await startPlatform({
    s3: 'embedded',
    bus: 'kafka',
    env: { UPLOAD_CREATE_PER_MINUTE: '100000' },
  });
  const workers = [platform.roles.worker];
  const rows: Row[] = [];
  try {
    const toReady = sizes.filter((seconds) => seconds <= options.readyUpToSeconds);
    const toPlayable = sizes.filter((seconds) => seconds > options.readyUpToSeconds);
    for (const count of options.workerCounts) {
      while (workers.length < count) {
        workers.push(spawnRole('worker', platform.env));
        // Its consumers join their groups; the first jobs would otherwise wait for the rebalance.
        await new Promise((r) => setTimeout(r, 15_000));
      }
      for (const seconds of toReady) {
        const path = sources.get(seconds) as string;
        const run = await measure(platform, workers, path, `bench-${count}-${seconds}`, true);
        // Right after, under the same load: CPU time too grows when the machine is busy.
        const rawCpuSeconds = await rawLadderCpu(path, work);
        rows.push({ seconds, workers: count, ...run, rawCpuSeconds });
        console.log(`${seconds} s, ${count} worker(s): ${JSON.stringify(rows.at(-1))}`);
      }
    }
    for (const seconds of toPlayable) {
      const path = sources.get(seconds) as string;
      const run = await measure(platform, workers, path, `bench-playable-${seconds}`, false);
      rows.push({ seconds, workers: workers.length, ...run, rawCpuSeconds: Number.NaN });
      console.log(`${seconds} s, ${workers.length} worker(s): ${JSON.stringify(rows.at(-1))}`);
    }
    const s = (ms: number) => (Number.isNaN(ms) ? '—' : `${(ms / 1000).toFixed(1)} s`);
    const cpu = (seconds: number) => (Number.isNaN(seconds) ? '—' : `${seconds.toFixed(1)} s`);
    console.log('\nchunked video on the fleet (Kafka, VIDEO_CHUNK_SECONDS default, 1080p sources):');
    printTable([
      ['source', 'workers', 'first playable', 'ready', 'workers CPU', 'raw ladder CPU', 'CPU ours / raw'],
      ...rows.map((row) => {
        const rawCpu = row.rawCpuSeconds;
        return [
          `${row.seconds} s`,
          String(row.workers),
          s(row.firstPlayableMs),
          s(row.readyMs),
          cpu(row.cpuSeconds),
          cpu(rawCpu),
          Number.isNaN(rawCpu) ? '—' : `${(row.cpuSeconds / rawCpu).toFixed(2)}×`,
        ];
      }),
    ]);
  } finally {
    for (const worker of workers.slice(1)) await worker.stop();
    await platform.stop();
    await rm(work, { recursive: true, force: true });
  }
}
