import { AsyncLocalStorage } from 'node:async_hooks';
import { inSpan } from './spans.ts';

export interface StepTiming {
  name: string;
  /** Since the job started. */
  startMs: number;
  ms: number;
  ok: boolean;
}

interface Timeline {
  started: number;
  steps: StepTiming[];
}

const timelines = new AsyncLocalStorage<Timeline>();

/**
 * Runs one job, recording the duration of every `step` it runs, however deep in the pipeline, without
 * handing a recorder through each call. The timings are the job's own report (they travel in its result),
 * so they are kept whether or not spans are exported.
 */
export function recordSteps<T>(job: () => Promise<T>): Promise<T> {
  return timelines.run({ started: performance.now(), steps: [] }, job);
}

/** The steps the running job has recorded so far; empty outside `recordSteps`. */
export function recordedSteps(): StepTiming[] {
  return [...(timelines.getStore()?.steps ?? [])];
}

/** One step of a job: a span of its own and an entry in the job's timeline. */
export function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  const timeline = timelines.getStore();
  const started = performance.now();
  const record = (ok: boolean) =>
    timeline?.steps.push({
      name,
      startMs: Math.round(started - timeline.started),
      ms: Math.round(performance.now() - started),
      ok,
    });
  return inSpan(name, {}, async () => {
    try {
      const value = await work();
      record(true);
      return value;
    } catch (error) {
      record(false);
      throw error;
    }
  });
}
