import { mkdir } from 'node:fs/promises';
import { topics } from '../contracts/events.ts';
import type { Subscription } from '../platform/bus/bus.ts';
import { optimizeHandler, type WorkerDeps } from './optimize-handler.ts';

export const workerGroup = 'worker';

/** Starts consuming optimize requests. The worker talks to the bus and storage only, never to the database. */
export async function startWorker(deps: WorkerDeps): Promise<Subscription> {
  await mkdir(deps.config.worker.tempDir, { recursive: true });
  return deps.bus.subscribe(topics.optimizeRequest, workerGroup, optimizeHandler(deps), {
    concurrency: deps.config.worker.concurrency,
  });
}
