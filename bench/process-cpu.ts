import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { childrenByParent } from './process-rss.ts';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux everywhere that matters). */
const ticksPerSecond = 100;

/**
 * CPU seconds spent so far by each child process of this one (its own descendants included, ended ones too),
 * by program name (`postgres`, `java`). A server started by a bench is such a child, so the bench can say what
 * each one spent per event; this process's own share is `process.cpuUsage()`.
 */
export function childCpuSeconds(): Map<string, number> {
  const children = childrenByParent();
  const totals = new Map<string, number>();
  for (const child of children.get(process.pid) ?? []) {
    const name = programOf(child);
    if (!name) continue;
    let ticks = 0;
    const tree = [child];
    for (let i = 0; i < tree.length; i++) {
      const pid = tree[i] as number;
      tree.push(...(children.get(pid) ?? []));
      ticks += cpuTicks(pid);
    }
    totals.set(name, (totals.get(name) ?? 0) + ticks / ticksPerSecond);
  }
  return totals;
}

function programOf(pid: number): string | undefined {
  try {
    return basename(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '');
  } catch {
    return undefined;
  }
}

/** utime + stime + the times of its children that ended and were waited for (cutime + cstime). */
function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
  } catch {
    return 0;
  }
}
