import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../platform/config.ts';
import { ffprobeFile } from '../worker/ffmpeg/probe.ts';
import { planSpans } from '../worker/video/chunked/plan-spans.ts';
import { assembleRendition } from '../worker/video/chunks/assemble-rendition.ts';
import { encodeChunk } from '../worker/video/chunks/encode-chunk.ts';
import { planVideo, rungsOf } from '../worker/video/plan.ts';
import { buildPoster, buildThumbnailCandidates } from '../worker/video/renditions.ts';
import { printTable } from './lib.ts';

/**
 * Where the chunked pipeline's ffmpeg CPU goes, job kind by job kind, on one machine without the fleet
 * (no bus, no storage: only the media work), against the plain whole-file ladder on the same source:
 * `node bench/video-cpu.ts --source /tmp/mediagate-bench-video-1080p-30s.mp4`. Both sides include the
 * poster and thumbnails; the raw side cuts its HLS from each MP4 by stream copy, ours assembles each MP4
 * from the chunks.
 */

const { values: args } = parseArgs({
  options: { source: { type: 'string', default: join(tmpdir(), 'mediagate-bench-video-1080p-30s.mp4') } },
});
const source = args.source as string;
const CLOCK_TICKS = 100;

function childrenCpu(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS;
}

function ffmpeg(argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...argv], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exited with ${code}`))));
  });
}

const rows: [string, string, number][] = [];
async function measured<T>(side: string, kind: string, work: () => Promise<T>): Promise<T> {
  const before = childrenCpu();
  const value = await work();
  rows.push([side, kind, childrenCpu() - before]);
  return value;
}

const work = await mkdtemp(join(tmpdir(), 'bench-video-cpu-'));
try {
  const probe = await ffprobeFile(source);
  const plan = planVideo(probe, { ladder: rungsOf(loadConfig().video.ladder) });
  const options = {};
  const stills = async (dir: string) => {
    await mkdir(dir, { recursive: true });
    await buildPoster(source, join(dir, 'poster.webp'), plan.poster, options);
    await buildThumbnailCandidates(source, dir, plan.thumbnails, options);
  };
  // Ours: the coordinator's chunk plan, the chunk jobs as the coordinator groups them, the stills, the
  // assemblies.
  const spans = await measured('chunked', 'chunk plan (keyframes)', () =>
    planSpans(source, probe, plan, loadConfig().video.chunkSeconds, options),
  );
  const [lowest, ...rest] = plan.renditions;
  const groups = [[lowest], rest].filter((group) => group.length > 0 && group[0]);
  const files = new Map<string, string[]>();
  for (const [g, group] of groups.entries()) {
    const name = `chunks: ${group.map((r) => `${r?.quality}(${r?.mode})`).join('+')}`;
    await measured('chunked', name, async () => {
      for (const span of spans) {
        const dir = join(work, 'chunks', String(g), String(span.index));
        for (const output of await encodeChunk(source, span, group as typeof plan.renditions, dir, {
          ...options,
          withAudio: probe.audio !== undefined,
        }))
          files.set(output.quality, [...(files.get(output.quality) ?? []), output.path]);
      }
    });
  }
  await measured('chunked', 'stills', () => stills(join(work, 'ours-stills')));
  for (const rendition of plan.renditions)
    await measured('chunked', `assemble ${rendition.quality}`, () =>
      assembleRendition(
        files.get(rendition.quality) ?? [],
        probe.audio ? source : undefined,
        rendition,
        join(work, `ours-${rendition.quality}.mp4`),
        options,
      ),
    );
  // Raw: the commands one would type for the same outputs.
  for (const rendition of plan.renditions)
    await measured('raw', `${rendition.quality}(${rendition.mode})`, () =>
      ffmpeg(['-i', source, ...rendition.outputArgs, join(work, `raw-${rendition.quality}.mp4`)]),
    );
  await measured('raw', 'stills', () => stills(join(work, 'raw-stills')));
  await measured('raw', 'hls cuts', async () => {
    for (const rendition of plan.renditions) {
      const variant = join(work, 'hls', rendition.quality);
      await mkdir(variant, { recursive: true });
      await ffmpeg([
        ...['-i', join(work, `raw-${rendition.quality}.mp4`), '-c', 'copy', '-f', 'hls', '-hls_time', '6'],
        ...['-hls_playlist_type', 'vod', '-hls_segment_type', 'fmp4'],
        ...['-hls_segment_filename', join(variant, 'seg_%03d.m4s'), join(variant, 'index.m3u8')],
      ]);
    }
  });
  const total = (side: string) => rows.filter(([s]) => s === side).reduce((sum, [, , cpu]) => sum + cpu, 0);
  console.log(
    `${source}: ${spans.length} chunks, ladder ${plan.renditions.map((r) => `${r.quality} ${r.mode}`).join(', ')}`,
  );
  printTable([
    ['side', 'work', 'CPU'],
    ...rows.map(([side, kind, cpu]) => [side, kind, `${cpu.toFixed(2)} s`]),
    ['chunked', 'total', `${total('chunked').toFixed(2)} s`],
    ['raw', 'total', `${total('raw').toFixed(2)} s`],
    ['', 'chunked / raw', `${(total('chunked') / total('raw')).toFixed(2)}×`],
  ]);
} finally {
  await rm(work, { recursive: true, force: true });
}
