import type { Logger } from './logger.ts';

/**
 * Runs `task` every `intervalMs`, a slow run delaying the next rather than overlapping it. A failure is logged
 * as `what` and retried at the next interval; the timer never keeps the process alive.
 */
export function repeatEvery(
  intervalMs: number,
  task: () => Promise<void>,
  logger: Logger,
  what: string,
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async () => {
    try {
      await task();
    } catch (error) {
      logger.warn({ err: error }, `${what} failed; will retry`);
    }
    if (!stopped) schedule();
  };
  const schedule = () => {
    timer = setTimeout(tick, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
