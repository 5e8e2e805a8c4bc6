import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ffprobeFile } from '../worker/ffmpeg/probe.ts';
import { planVideo, type VideoPlan } from '../worker/video/plan.ts';
import { processVideo } from '../worker/video/process-video.ts';
import { buildRendition, remuxFaststart } from '../worker/video/renditions.ts';
import { printTable, timeInterleaved } from './lib.ts';
import { fleetTable } from './video-fleet.ts';

// Compares worker/video with the ffmpeg command lines someone would type for the same outputs, on a
// 60 s 1080p H.264/AAC clip (moov at the end, as cameras and editors write it). Goal: ours ≤ 1.1× raw.
// Besides wall time it reports ffmpeg's CPU time, which other load on a shared machine barely moves.

const SOURCE = join(tmpdir(), 'mediagate-bench-video-1080p-60s.mp4');

/** Flags only (no paths), written as one would type them. */
const flags = (line: string) => line.split(' ');

/** Plain ffmpeg: the anchor our wrapper (progress parsing, probes, atomic renames) is held to. */
function ffmpeg(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', [...flags('-hide_banner -loglevel error -nostdin -y'), ...args], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}`))));
  });
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));

/** CPU used by this process's finished children (Linux: cutime + cstime in /proc/self/stat). */
function childCpuMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
}

/** Wall time from timeInterleaved (median) plus the children's CPU time per run. */
async function compare(
  raw: () => Promise<unknown>,
  ours: () => Promise<unknown>,
  iterations: number,
  warmups: number,
) {
  const cpu = { raw: 0, ours: 0 };
  const counted = (name: keyof typeof cpu, run: () => Promise<unknown>) => async () => {
    const before = childCpuMs();
    await run();
    cpu[name] += childCpuMs() - before;
  };
  const wall = await timeInterleaved(
    { raw: counted('raw', raw), ours: counted('ours', ours) },
    iterations,
    warmups,
  );
  const runs = iterations + warmups;
  return {
    wall: { raw: wall.raw.medianMs, ours: wall.ours.medianMs },
    cpu: { raw: cpu.raw / runs, ours: cpu.ours / runs },
  };
}

async function ensureSource(): Promise<void> {
  if (
    await access(SOURCE).then(
      () => true,
      () => false,
    )
  )
    return;
  console.log(`generating ${SOURCE} (once)…`);
  const partial = `${SOURCE}.partial.mp4`;
  await ffmpeg([
    ...flags(
      '-f lavfi -i testsrc2=size=1920x1080:rate=30:duration=60 -f lavfi -i sine=frequency=440:duration=60',
    ),
    ...flags('-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -b:a 128k'),
    partial,
  ]);
  await rename(partial, SOURCE);
}

/** Deletes the previous iteration's output first, so no case pays for truncating or replacing a big file. */
async function fresh(path: string): Promise<string> {
  await rm(path, { force: true });
  return path;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const times = (ms: number, of: number) => `${(ms / of).toFixed(2)}×`;

/** The same outputs as processVideo, by plain sequential commands: poster, renditions, thumbnails, HLS. */
async function rawLadder(dir: string, plan: VideoPlan): Promise<void> {
  await mkdir(dir, { recursive: true });
  const still = (at: number, width: number, height: number, out: string) =>
    ffmpeg([
      '-ss',
      String(at),
      '-i',
      SOURCE,
      ...flags(`-frames:v 1 -vf scale=${width}:${height} -c:v libwebp`),
      out,
    ]);
  await still(plan.poster.atSeconds, plan.poster.width, plan.poster.height, join(dir, 'poster.webp'));
  for (const r of plan.renditions)
    await ffmpeg(['-i', SOURCE, ...r.outputArgs, join(dir, `${r.quality}.mp4`)]);
  for (const [i, at] of plan.thumbnails.atSeconds.entries()) {
    await still(at, plan.thumbnails.width, plan.thumbnails.height, join(dir, `thumbnail-${i + 1}.webp`));
  }
  for (const r of plan.renditions) {
    const variant = join(dir, 'hls', r.quality);
    await mkdir(variant, { recursive: true });
    await ffmpeg([
      ...['-i', join(dir, `${r.quality}.mp4`)],
      ...flags('-c copy -f hls -hls_time 6 -hls_playlist_type vod -hls_segment_type fmp4'),
      ...['-hls_segment_filename', join(variant, 'seg_%03d.m4s'), join(variant, 'index.m3u8')],
    ]);
  }
}

// `--sizes 30,180` picks the fleet table's source lengths (s), `--workers 1,2` its worker counts; sources longer
// than `--ready-up-to` seconds are measured to first playable only; `--fleet-only` skips the single-worker cases.
const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '30,180,600' },
    workers: { type: 'string', default: '1,2' },
    'ready-up-to': { type: 'string', default: '600' },
    'fleet-only': { type: 'boolean', default: false },
  },
});
const fleetSizes = (args.sizes ?? '')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);

if (!args['fleet-only']) await singleWorkerCases();
// (d) Chunked video across the fleet: time to first playable and to ready, CPU against the raw ladder.
await fleetTable(fleetSizes, {
  workerCounts: (args.workers ?? '1')
    .split(',')
    .map(Number)
    .filter((n) => n > 0),
  readyUpToSeconds: Number(args['ready-up-to']),
});

async function singleWorkerCases() {
  await ensureSource();
  const work = await mkdtemp(join(tmpdir(), 'bench-video-'));
  try {
    const probe = await ffprobeFile(SOURCE);
    console.log(
      `source: ${probe.video?.width}x${probe.video?.height} ${probe.video?.codec}/${probe.audio?.codec}, ` +
        `${probe.durationSeconds} s, ${Math.round((probe.bitrate ?? 0) / 1000)} kb/s\n`,
    );

    const remux = await compare(
      async () =>
        ffmpeg(['-i', SOURCE, ...flags('-c copy -movflags +faststart'), await fresh(join(work, 'r.mp4'))]),
      async () => remuxFaststart(SOURCE, await fresh(join(work, 'remux.mp4'))),
      15,
      1,
    );
    const rendition = await compare(
      async () =>
        ffmpeg([
          ...['-i', SOURCE, ...flags('-vf scale=-2:720 -r 30 -c:v libx264 -preset veryfast -b:v 2500k')],
          ...flags('-maxrate 2500k -bufsize 5000k -force_key_frames expr:gte(t,n_forced*2)'),
          ...flags('-c:a aac -b:a 128k -movflags +faststart'),
          await fresh(join(work, 'r720.mp4')),
        ]),
      // Ours includes the probe and the plan, as the worker runs them.
      async () => {
        const plan = planVideo(await ffprobeFile(SOURCE));
        const medium = plan.renditions.find((r) => r.quality === 'medium');
        if (!medium) throw new Error('no 720p rung planned');
        const out = await fresh(join(work, '720p.mp4'));
        await buildRendition(SOURCE, out, medium, { durationSeconds: plan.durationSeconds });
      },
      3,
      0,
    );
    printTable([
      ['case', 'raw wall', 'ours wall', 'ours / raw', 'raw CPU', 'ours CPU', 'ours / raw'],
      ...Object.entries({
        '(a) remux + faststart, 15 runs': remux,
        '(b) 720p rendition, 3 runs': rendition,
      }).map(([name, { wall, cpu }]) => [
        name,
        seconds(wall.raw),
        seconds(wall.ours),
        times(wall.ours, wall.raw),
        seconds(cpu.raw),
        seconds(cpu.ours),
        times(cpu.ours, cpu.raw),
      ]),
    ]);

    // (c) Progressive availability: when can the worker publish something, against the whole ladder?
    const cpuBefore = childCpuMs();
    const started = performance.now();
    const at = new Map<string, number>();
    const { plan } = await processVideo(
      SOURCE,
      join(work, 'ladder'),
      {},
      { onOutput: (output) => at.set(output.quality, performance.now() - started) },
    );
    const total = performance.now() - started;
    const cpu = childCpuMs() - cpuBefore;
    const rawStarted = performance.now();
    await rawLadder(join(work, 'raw-ladder'), plan);
    const rawTotal = performance.now() - rawStarted;
    const rawCpu = childCpuMs() - cpuBefore - cpu;
    const [firstPlayable = '', firstAt = Number.NaN] =
      [...at].find(([quality]) => plan.renditions.some((r) => r.quality === quality)) ?? [];
    const ladder = plan.renditions.map((r) => `${r.quality} ${r.width}x${r.height} ${r.mode}`).join(', ');
    console.log(`\n(c) ladder: ${ladder}`);
    printTable([
      ['milestone', 'after', 'of whole ladder'],
      ['poster', seconds(at.get('poster') ?? Number.NaN), times(at.get('poster') ?? Number.NaN, total)],
      [`first playable (${firstPlayable})`, seconds(firstAt), times(firstAt, total)],
      ['whole ladder + thumbnails + HLS', seconds(total), times(total, total)],
      [
        'raw ffmpeg, same outputs, sequential',
        seconds(rawTotal),
        `ours / raw ${times(total, rawTotal)} wall`,
      ],
      ['CPU: ours, raw', `${seconds(cpu)}, ${seconds(rawCpu)}`, `ours / raw ${times(cpu, rawCpu)} CPU`],
    ]);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
