import { mkdir } from 'node:fs/promises';
import { topics } from '../contracts/events.ts';
import type { MessageHandler, Subscription } from '../platform/bus/bus.ts';
import { recordSteps } from '../platform/tracing/steps.ts';
import { optimizeHandler, type WorkerDeps } from './optimize-handler.ts';
import { assembleHandler } from './video/chunked/assemble-handler.ts';
import { chunkHandler } from './video/chunked/chunk-handler.ts';

export const workerGroup = 'worker';

/**
 * Starts consuming optimize requests, and a chunked video's chunk and assembly jobs. The worker talks to
 * the bus and storage only, never to the database.
 */
export async function startWorker(deps: WorkerDeps): Promise<Subscription> {
  await mkdir(deps.config.worker.tempDir, { recursive: true });
  const shutdown = new AbortController();
  const running = { ...deps, signal: shutdown.signal };
  const options = { concurrency: deps.config.worker.concurrency };
  const subscriptions: Subscription[] = [];
  try {
    for (const [topic, handler] of [
      [topics.optimizeRequest, optimizeHandler(running)],
      [topics.videoChunk, chunkHandler(running)],
      [topics.videoAssemble, assembleHandler(running)],
    ] as const) {
      subscriptions.push(await deps.bus.subscribe(topic, workerGroup, withStepTimeline(handler), options));
    }
  } catch (error) {
    for (const subscription of subscriptions) await subscription.stop();
    throw error;
  }
  return {
    async stop() {
      // Cancel running jobs first (encodes killed, transfers aborted, each job's files closed and removed);
      // the bus then hands their messages back, so another worker redoes them.
      shutdown.abort();
      await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    },
  };
}

/** Each job records its own step times, which its result reports. */
function withStepTimeline(handler: MessageHandler): MessageHandler {
  return (message) => recordSteps(() => handler(message));
}
