import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * One `mediagate dev` per DATA_DIR. A second one would find the first one's PostgreSQL holding the data
 * directory and fail with PostgreSQL's own words after starting half of itself; instead it is told at once.
 * The lock is a file holding the owner's pid: a pid that no longer runs (a crash, kill -9) leaves a stale
 * lock, which the next start takes over. PostgreSQL's own postmaster.pid is checked too, for a server that
 * outlived its dev process.
 */
export class DevAlreadyRunningError extends Error {
  constructor(dataDir: string, pid: number, what = 'mediagate dev') {
    super(`${what} is already running in ${shown(dataDir)} (pid ${pid}): stop it or use another DATA_DIR`);
    this.name = 'DevAlreadyRunningError';
  }
}

export interface DevLock {
  release(): void;
}

/** Takes DATA_DIR (which must exist) for this process, or throws DevAlreadyRunningError naming the holder. */
export function lockDataDir(dataDir: string): DevLock {
  const path = join(dataDir, 'dev.pid');
  // Created exclusively, so of two starts racing for a free DATA_DIR exactly one wins.
  for (;;) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = livePid(path);
      if (owner !== undefined) throw new DevAlreadyRunningError(dataDir, owner);
      rmSync(path, { force: true });
    }
  }
  const release = () => {
    if (livePid(path) === process.pid) rmSync(path, { force: true });
  };
  const postgres = livePid(join(dataDir, 'postgres', 'postmaster.pid'));
  if (postgres !== undefined) {
    release();
    throw new DevAlreadyRunningError(dataDir, postgres, "an earlier mediagate dev's PostgreSQL");
  }
  return { release };
}

/** The pid on the file's first line when that process is alive; undefined when absent or stale. */
function livePid(path: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(path, 'utf8').split('\n')[0] ?? '', 10);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (error) {
    // EPERM: alive, but another user's (PostgreSQL runs as `postgres` when dev runs as root).
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/** DATA_DIR as the user would type it: relative to where they are when it is inside. */
function shown(dataDir: string): string {
  const path = relative(process.cwd(), dataDir);
  return path && !path.startsWith('..') ? `./${path}` : dataDir;
}
