import { readdirSync, readFileSync } from 'node:fs';

/** RSS of a set of named processes, each alone or with its descendants, sampled on an interval. */
export interface RssSampler {
  stop(): RssSeries[];
}

export interface RssSeries {
  name: string;
  /** MB, one sample per interval. */
  samples: number[];
  /** CPU seconds (user + system) the process and its sampled descendants spent between start and stop. */
  cpuSeconds: number;
}

/** Linux only: reads /proc. A process that exited reads as 0 from then on. */
export function sampleRss(
  roots: Record<string, { pid: number; withDescendants?: boolean }>,
  intervalMs = 1000,
): RssSampler {
  const series = Object.keys(roots).map((name) => ({ name, samples: [] as number[], cpuSeconds: 0 }));
  // Every pid's CPU at the first sample (a pid born later started from 0) and at its last sighting, so a
  // descendant that exits mid-run (a PostgreSQL backend) keeps what it spent until then.
  const firstTicks = new Map<number, number>();
  let first = true;
  const lastTicks = new Map<number, { root: number; ticks: number }>();
  const sample = () => {
    const children = childrenByParent();
    for (const [index, { pid, withDescendants }] of Object.values(roots).entries()) {
      const pids = withDescendants ? treeOf(pid, children) : [pid];
      const total = pids.reduce((sum, p) => sum + rssKb(p), 0);
      series[index]?.samples.push(Math.round(total / 1024));
      for (const p of pids) {
        const ticks = cpuTicks(p);
        if (ticks === undefined) continue;
        if (first) firstTicks.set(p, ticks);
        lastTicks.set(p, { root: index, ticks });
      }
    }
    first = false;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      for (const [p, { root, ticks }] of lastTicks) {
        const entry = series[root];
        if (entry) entry.cpuSeconds += (ticks - (firstTicks.get(p) ?? 0)) / clockTicksPerSecond;
      }
      return series;
    },
  };
}

export function childrenByParent(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may hold spaces: the parent pid is the 2nd field after it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(ppid, [...(map.get(ppid) ?? []), Number(entry)]);
    } catch {}
  }
  return map;
}

function treeOf(pid: number, children: Map<number, number[]>): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(children.get(all[i] as number) ?? []));
  return all;
}

// USER_HZ, 100 on every Linux this runs on.
const clockTicksPerSecond = 100;

/** utime + stime from /proc/<pid>/stat (fields 14 and 15), in clock ticks. */
function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

function rssKb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0);
  } catch {
    return 0;
  }
}
