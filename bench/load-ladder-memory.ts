import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { option } from '../cli/args.ts';
import { loadConfig } from '../platform/config.ts';
import { buildImageLadder } from '../worker/image/ladder.ts';
import { makePhotoLikeJpeg, printTable } from './lib.ts';

// Where a worker's memory goes, without the rest of the stack: the ladder (WebP and AVIF rungs) on 2 MP photos,
// `--lanes` jobs at once as a worker with that WORKER_CONCURRENCY runs them, once per glibc allocator setting
// (each in a process of its own, since glibc reads them at start). Prints peak and end RSS, and the part of it
// V8 and Node account for (heap, external buffers): the rest is native, libvips' and aom's.
//
//   node bench/load-ladder-memory.ts [--lanes 2] [--photos 32]

const allocators: Record<string, Record<string, string>> = {
  'glibc defaults': {},
  'MALLOC_ARENA_MAX=2': { MALLOC_ARENA_MAX: '2' },
  'MALLOC_ARENA_MAX=2, MMAP_THRESHOLD 128 KiB': { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' },
  'MALLOC_ARENA_MAX=2, MMAP_THRESHOLD 1 MiB': { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '1048576' },
  'MALLOC_ARENA_MAX=2, MMAP_THRESHOLD 4 MiB': { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '4194304' },
};

const args = process.argv.slice(2);
const lanes = Number(option(args, '--lanes') ?? 2);
const photos = Number(option(args, '--photos') ?? 32);

if (process.env.LADDER_MEMORY_CHILD) {
  process.stdout.write(JSON.stringify(await measure()));
} else {
  const rows = [
    ['allocator', 'start MB', 'peak MB', 'end MB', 'heap MB', 'external MB', 'CPU ms/photo', 'of it system'],
  ];
  for (const [name, env] of Object.entries(allocators)) {
    const out = execFileSync(process.execPath, [import.meta.filename, ...args], {
      env: { ...process.env, ...env, LADDER_MEMORY_CHILD: '1' },
      encoding: 'utf8',
    });
    const r = JSON.parse(out) as Record<string, number>;
    const columns = ['start', 'peak', 'end', 'heap', 'external', 'cpuMs', 'systemMs'];
    rows.push([name, ...columns.map((k) => String(r[k]))]);
  }
  console.log(`ladder (WebP + AVIF) on ${photos} photos of 1600×1200, ${lanes} at once`);
  printTable(rows);
}

async function measure(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-ladder-memory-'));
  const files = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => {
      const path = join(dir, `photo-${i}.jpg`);
      await writeFile(path, await makePhotoLikeJpeg(1600, 1200, { seed: i + 1 }));
      return path;
    }),
  );
  const options = loadConfig({}).image;
  const start = rssMb();
  let peak = start;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMb());
  }, 50);
  const cpu = process.cpuUsage();
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const out = join(dir, `lane-${lane}`);
      await mkdir(out);
      for (let i = next++; i < photos; i = next++)
        await buildImageLadder(files[i % files.length] as string, out, options);
    }),
  );
  clearInterval(sampler);
  const spent = process.cpuUsage(cpu);
  const memory = process.memoryUsage();
  await rm(dir, { recursive: true, force: true });
  return {
    start,
    peak,
    end: rssMb(),
    heap: Math.round(memory.heapUsed / 2 ** 20),
    external: Math.round(memory.external / 2 ** 20),
    cpuMs: Math.round((spent.user + spent.system) / 1000 / photos),
    // Page faults and mmap/munmap of the buffers the allocator hands back to the system show up here.
    systemMs: Math.round(spent.system / 1000 / photos),
  };
}

function rssMb(): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return Math.round(Number(match?.[1] ?? 0) / 1024);
}
