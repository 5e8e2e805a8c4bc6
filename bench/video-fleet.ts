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
import { TimelineRecorder } from './video-timeline.ts';

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
  /** Of cpuSeconds, the worker processes' own (node: bus, storage transfers, hashing), not ffmpeg's. */
  selfCpuSeconds: number;
  rawCpuSeconds: number;
  timeline: [string, number][];
}

const CLOCK_TICKS = 100;

/** The process's CPU (utime + stime) and that of the children it has reaped (cutime + cstime: ffmpeg). */
function cpuOf(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const sum = (indexes: number[]) => indexes.reduce((total, i) => total + Number(fields[i]), 0) / CLOCK_TICKS;
  return { self: sum([11, 12]), children: sum([13, 14]) };
}

function workersCpu(workers: RoleProcess[]): { self: number; children: number } {
  return workers
    .map((worker) => cpuOf(worker.child.pid as number))
    .reduce((a, b) => ({ self: a.self + b.self, children: a.children + b.children }));
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
  recorder: TimelineRecorder,
  path: string,
  user: string,
  untilReady: boolean,
) {
  const client = apiClient(platform, platform.token(user));
  const bytes = await readFile(path);
  const cpuBefore = workersCpu(workers);
  const { mediaId, complete } = await uploadBytes(client, bytes, 'video/mp4');
  if (complete.status !== 202) throw new Error(`complete answered ${complete.status}`);
  const completedAt = Date.now();
  const marks: Record<string, number> = {};
  let firstPlayableMs = Number.NaN;
  const timeline = () => recorder.stages(mediaId, completedAt, marks);
  for (;;) {
    const { body } = await client.get<MediaView>(`/v1/media/${mediaId}`);
    const hls = body.variants.find((v) => v.quality === 'hls');
    if (hls) marks['view shows the HLS variant'] ??= Date.now();
    if (Number.isNaN(firstPlayableMs) && hls && (await playable(hls.url))) {
      marks['plays through the edge (master, EVENT playlist, segment)'] = Date.now();
      firstPlayableMs = Date.now() - completedAt;
    }
    if (!untilReady && !Number.isNaN(firstPlayableMs))
      return {
        firstPlayableMs,
        readyMs: Number.NaN,
        cpuSeconds: Number.NaN,
        selfCpuSeconds: Number.NaN,
        timeline: timeline(),
      };
    if (body.status !== 'processing') {
      if (body.status !== 'ready')
        throw new Error(`media ${mediaId} ended ${body.status}: ${JSON.stringify(body.failure)}`);
      break;
    }
    // Fine enough that the bench's own polling adds little to the first playable time.
    await new Promise((r) => setTimeout(r, 50));
  }
  const readyMs = Date.now() - completedAt;
  const cpuAfter = workersCpu(workers);
  const self = cpuAfter.self - cpuBefore.self;
  return {
    firstPlayableMs,
    readyMs,
    cpuSeconds: self + cpuAfter.children - cpuBefore.children,
    selfCpuSeconds: self,
    timeline: timeline(),
  };
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
  const rows: Row[] = [];
  const toReady = sizes.filter((seconds) => seconds <= options.readyUpToSeconds);
  const toPlayable = sizes.filter((seconds) => seconds > options.readyUpToSeconds);
  const maxWorkers = Math.max(...options.workerCounts);
  try {
    await withFleet(async (platform, workers, recorder) => {
      for (const count of options.workerCounts) {
        await growFleet(platform, workers, recorder, count);
        for (const seconds of toReady) {
          const path = sources.get(seconds) as string;
          const run = await measure(platform, workers, recorder, path, `bench-${count}-${seconds}`, true);
          // Right after, under the same load: CPU time too grows when the machine is busy.
          const rawCpuSeconds = await rawLadderCpu(path, work);
          rows.push({ seconds, workers: count, ...run, rawCpuSeconds });
          console.log(`${seconds} s, ${count} worker(s): ${JSON.stringify(rows.at(-1))}`);
        }
      }
    });
    // A source measured to first playable only leaves its other chunks queued: each gets a fleet of its
    // own, so the next one does not start behind them.
    for (const seconds of toPlayable) {
      await withFleet(async (platform, workers, recorder) => {
        await growFleet(platform, workers, recorder, maxWorkers);
        const path = sources.get(seconds) as string;
        const run = await measure(platform, workers, recorder, path, `bench-playable-${seconds}`, false);
        rows.push({ seconds, workers: workers.length, ...run, rawCpuSeconds: Number.NaN });
        console.log(`${seconds} s, ${workers.length} worker(s): ${JSON.stringify(rows.at(-1))}`);
      });
    }
    printRows(rows);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function withFleet(
  run: (platform: Platform, workers: RoleProcess[], recorder: TimelineRecorder) => Promise<void>,
): Promise<void> {
  const platform = await startPlatform({
    s3: 'embedded',
    bus: 'kafka',
    // The timeline reads the roles' info lines.
    env: { UPLOAD_CREATE_PER_MINUTE: '100000', LOG_LEVEL: 'info' },
  });
  const workers = [platform.roles.worker];
  const recorder = new TimelineRecorder();
  recorder.listen([platform.roles.api, platform.roles.worker]);
  try {
    await run(platform, workers, recorder);
  } finally {
    for (const worker of workers.slice(1)) await worker.stop();
    await platform.stop();
  }
}

async function growFleet(
  platform: Platform,
  workers: RoleProcess[],
  recorder: TimelineRecorder,
  count: number,
): Promise<void> {
  while (workers.length < count) {
    const worker = spawnRole('worker', platform.env);
    workers.push(worker);
    recorder.listen([worker]);
    // Its consumers join their groups; the first jobs would otherwise wait for the rebalance.
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

function printRows(rows: Row[]): void {
  const s = (ms: number) => (Number.isNaN(ms) ? '—' : `${(ms / 1000).toFixed(1)} s`);
  const cpu = (seconds: number) => (Number.isNaN(seconds) ? '—' : `${seconds.toFixed(1)} s`);
  console.log(
    `\nchunked video on the fleet (Kafka, VIDEO_CHUNK_SECONDS default, 1080p sources), load ${loadAverage()}:`,
  );
  printTable([
    [
      'source',
      'workers',
      'first playable',
      'ready',
      'workers CPU (node)',
      'raw ladder CPU',
      'CPU ours / raw',
    ],
    ...rows.map((row) => {
      const rawCpu = row.rawCpuSeconds;
      return [
        `${row.seconds} s`,
        String(row.workers),
        s(row.firstPlayableMs),
        s(row.readyMs),
        Number.isNaN(row.cpuSeconds) ? '—' : `${cpu(row.cpuSeconds)} (${cpu(row.selfCpuSeconds)})`,
        cpu(rawCpu),
        Number.isNaN(rawCpu) ? '—' : `${(row.cpuSeconds / rawCpu).toFixed(2)}×`,
      ];
    }),
  ]);
  console.log(
    '\nBoth sides include the poster and thumbnails; ours also the coordinator (probe, download and hash of the original),\n' +
      'the chunk jobs and the assemblies (concat + AAC per MP4), the raw side cuts its HLS from each MP4 by copy.',
  );
  for (const row of rows) {
    console.log(
      `\ntimeline, ${row.seconds} s source, ${row.workers} worker(s) (ms after complete answered):`,
    );
    printTable([['stage', 'at'], ...row.timeline.map(([label, at]) => [label, `${at} ms`])]);
  }
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}
