import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ImageLadderOptions } from '../worker/image/ladder.ts';
import { rawSharpLadder } from './raw-sharp.ts';

// bench:load's anchor, raw sharp, in a process of its own started with the allocator settings the stack's
// processes get. glibc's settings are read at start, so in the bench's own process raw sharp ran with
// glibc's defaults while every role ran with MALLOC_MMAP_THRESHOLD_=131072, whose mmaps and page faults cost
// the same ladder 7–10% more CPU, three times the system time (bench/load-ladder-memory.ts, "of it system"):
// the ratio measured the allocator as well as the stack. Raw sharp under glibc's defaults peaks near 500 MB.

export interface AnchorRun {
  files: string[];
  count: number;
  lanes: number;
  outDir: string;
  ladder: ImageLadderOptions;
}

export interface AnchorResult {
  perMinute: number;
  cpuMs: number;
  peakMb: number;
}

/** Raw sharp's images/min on `run.count` of the files, `run.lanes` at once, in a child given `env`. */
export async function rawSharpInChild(run: AnchorRun, env: Record<string, string>): Promise<AnchorResult> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [import.meta.filename, JSON.stringify(run)],
    {
      env: { ...process.env, ...env },
      maxBuffer: 1024 * 1024,
    },
  );
  return JSON.parse(stdout) as AnchorResult;
}

const rssMb = () =>
  Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024);

async function ladders(run: AnchorRun, count: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: run.lanes }, async (_, lane) => {
      const out = join(run.outDir, `lane-${lane}`);
      await mkdir(out, { recursive: true });
      for (let i = next++; i < count; i = next++)
        await rawSharpLadder(run.files[i % run.files.length] as string, out, run.ladder);
    }),
  );
}

if (import.meta.main) {
  const run = JSON.parse(process.argv[2] as string) as AnchorRun;
  // One round untimed first: libvips' and aom's first encodes set up what later ones reuse.
  await ladders(run, run.lanes);
  let peakMb = rssMb();
  const sampler = setInterval(() => {
    peakMb = Math.max(peakMb, rssMb());
  }, 100);
  const cpu = process.cpuUsage();
  const started = performance.now();
  await ladders(run, run.count);
  const elapsed = performance.now() - started;
  const spent = process.cpuUsage(cpu);
  clearInterval(sampler);
  const result: AnchorResult = {
    perMinute: (run.count * 60_000) / elapsed,
    cpuMs: (spent.user + spent.system) / 1000 / run.count,
    peakMb,
  };
  process.stdout.write(JSON.stringify(result));
}
