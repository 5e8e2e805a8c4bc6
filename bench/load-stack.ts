import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCli, distDir } from '../deploy/bundle/bundle.ts';
import { freePort } from '../deploy/ports.ts';
import { startPlatform } from '../test/harness.ts';
import { type RoleProcess, spawnRole, waitForHttp } from '../test/processes.ts';
import { childrenByParent } from './process-rss.ts';

/** A running mediagate for the load bench: where to send uploads, how to sign tokens, whose RSS to watch. */
export interface LoadStack {
  apiUrl: string;
  jwtSecret: string;
  processes: Record<string, { pid: number; withDescendants?: boolean }>;
  stop(): Promise<void>;
}

/**
 * glibc's allocator settings, the ones `npm start` and the container image give every role (README "Throughput
 * and worker memory"): without them the bench measured a process nobody runs (`npm start`'s one process peaked
 * at 846 MB instead of 478). The raw sharp anchor runs with them too (load-anchor.ts).
 */
export const allocatorEnv = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072' };

/**
 * Load runs create far more uploads a minute than the per-user default allows; the roles get Node's young
 * generation limit as `npm start` and the image give it. The raw sharp anchor keeps Node's default.
 */
const loadEnv = {
  UPLOAD_CREATE_PER_MINUTE: '100000',
  NODE_OPTIONS: '--max-semi-space-size=4',
  ...allocatorEnv,
};

/**
 * `npm start`: `mediagate dev` in one process (embedded PostgreSQL, in-process S3, the embedded bus), with
 * its defaults, on free ports and a fresh data directory.
 */
export async function startDevStack(extraEnv: Record<string, string>): Promise<LoadStack> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-load-'));
  const [apiPort, edgePort] = [await freePort('127.0.0.1'), await freePort('127.0.0.1')];
  const jwtSecret = randomBytes(32).toString('hex');
  const dev = spawnRole('dev', {
    ...loadEnv,
    DATA_DIR: dir,
    API_PORT: String(apiPort),
    EDGE_PORT: String(edgePort),
    METRICS_PORT: '0',
    JWT_SECRET: jwtSecret,
    ...extraEnv,
  });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const stop = async () => {
    await dev.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForHttp(`${apiUrl}/readyz`, dev, 120_000);
  } catch (error) {
    await stop();
    throw error;
  }
  const pid = dev.child.pid as number;
  const postgres = (childrenByParent().get(pid) ?? []).find((child) => isPostgres(child));
  return {
    apiUrl,
    jwtSecret,
    processes: {
      'dev (node)': { pid },
      ...(postgres ? { postgres: { pid: postgres, withDescendants: true } } : {}),
    },
    stop,
  };
}

/**
 * The roles as separate processes (api, edge, `workers` workers) on the test harness's real servers, each
 * running the bundle the image ships (`npm run build`), not the TypeScript sources.
 */
export async function startFleetStack(
  workers: number,
  bus: 'kafka' | 'embedded',
  extraEnv: Record<string, string>,
): Promise<LoadStack> {
  // The platform's default partition count, not the test harness's 3: two workers split 3 partitions 2:1, so
  // one idled while the other queued (CPU per image 196 vs 409 ms, p95 5.4 s).
  const { entry: cli } = await bundleCli(distDir);
  const platform = await startPlatform({
    cli,
    s3: 'embedded',
    bus,
    env: { KAFKA_PARTITIONS: '6', ...loadEnv, ...extraEnv },
  });
  const extra: RoleProcess[] = [];
  for (let i = 1; i < workers; i++) extra.push(spawnRole('worker', platform.env, cli));
  const pidOf = (role: RoleProcess) => ({ pid: role.child.pid as number });
  const processes: LoadStack['processes'] = {
    api: pidOf(platform.roles.api),
    edge: pidOf(platform.roles.edge),
    'worker 1': pidOf(platform.roles.worker),
  };
  for (const [i, worker] of extra.entries()) processes[`worker ${i + 2}`] = pidOf(worker);
  const children = childrenByParent().get(process.pid) ?? [];
  const postgres = children.find((child) => isPostgres(child));
  if (postgres) processes.postgres = { pid: postgres, withDescendants: true };
  // The broker's CPU is the stack's too: without it the Kafka bus looked cheaper than the embedded one.
  const broker = children.find((child) => commandOf(child) === 'java');
  if (broker) processes['kafka broker'] = { pid: broker };
  return {
    apiUrl: platform.apiUrl,
    jwtSecret: platform.env.JWT_SECRET as string,
    processes,
    async stop() {
      await Promise.all(extra.map((worker) => worker.stop()));
      await platform.stop();
    },
  };
}

function isPostgres(pid: number): boolean {
  return /postgres|setpriv/.test(commandOf(pid));
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}
