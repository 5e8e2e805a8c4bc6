import { mkdir } from 'node:fs/promises';
import { topics } from '../contracts/events.ts';
import type { MessageHandler, Subscription } from '../platform/bus/bus.ts';
import { recordSteps } from '../platform/tracing/steps.ts';
import { optimizeHandler, type WorkerDeps } from './optimize-handler.ts';

export const workerGroup = 'worker';

/** Starts consuming optimize requests. The worker talks to the bus and storage only, never to the database. */
export async function startWorker(deps: WorkerDeps): Promise<Subscription> {
  await mkdir(deps.config.worker.tempDir, { recursive: true });
  const shutdown = new AbortController();
  const subscription = await deps.bus.subscribe(
    topics.optimizeRequest,
    workerGroup,
    withStepTimeline(optimizeHandler({ ...deps, signal: shutdown.signal })),
    { concurrency: deps.config.worker.concurrency },
  );
  return {
    async stop() {
      // Cancel running jobs first (encodes killed, transfers aborted, each job's files closed and removed);
      // the bus then hands their messages back, so another worker redoes them.
      shutdown.abort();
      await subscription.stop();
    },
  };
}

/** Each job records its own step times, which its result reports. */
function withStepTimeline(handler: MessageHandler): MessageHandler {
  return (message) => recordSteps(() => handler(message));
}
