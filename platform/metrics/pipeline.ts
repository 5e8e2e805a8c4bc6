import type { Registry } from 'prom-client';
import { gauge, histogram, jobBuckets } from './registry.ts';

/**
 * Steps of a worker job. `transform` is an image's whole ladder (its rungs share one decode and encode in
 * parallel, so a rung has no time of its own); video and audio report each rung, the poster, thumbnails
 * and HLS as their own step.
 */
export type JobStep =
  | 'download'
  | 'scan'
  | 'transform'
  | 'upload'
  | 'poster'
  | 'thumbnails'
  | 'low'
  | 'medium'
  | 'high'
  | `${number}p`
  | 'hls'
  // A chunked video's chunk jobs (every rung of one chunk, one decode) and rung assemblies (jobs of kind
  // `chunk` and `assemble`).
  | 'encode'
  | 'assemble';

/** `done`: a result was published (ready or a media failure); `error`: the bus retries it; `malware`. */
export type JobOutcome = 'done' | 'error' | 'malware';

/** Times one step of a job; a failed step is timed too. */
export type TimeStep = <T>(step: JobStep, work: () => Promise<T>) => Promise<T>;

export interface JobTimer {
  step: TimeStep;
  /** The job is over: it stops counting as in flight and its duration is recorded. */
  end(outcome: JobOutcome): void;
}

export interface WorkerMetrics {
  /** A job of this media kind starts running. */
  job(kind: string): JobTimer;
}

/** For code run without a metrics registry (tests, tools): times nothing. */
export const untimedWorker: WorkerMetrics = {
  job: () => ({ step: (_step, work) => work(), end: () => {} }),
};

export function workerMetrics(registry: Registry): WorkerMetrics {
  const jobs = histogram(
    registry,
    'mediagate_worker_job_duration_seconds',
    'Optimize jobs from delivery to the published result, by media kind and outcome (done, error, malware)',
    ['kind', 'outcome'],
    jobBuckets,
  );
  const steps = histogram(
    registry,
    'mediagate_worker_step_duration_seconds',
    'Steps of optimize jobs (download, scan, transform, each rung, poster, hls, upload), by media kind',
    ['kind', 'step'],
    jobBuckets,
  );
  const inFlight = gauge(
    registry,
    'mediagate_worker_jobs_in_flight',
    'Optimize jobs this worker is running now',
  );
  return {
    job(kind) {
      const started = performance.now();
      let ended = false;
      inFlight.inc();
      return {
        async step(step, work) {
          const begun = performance.now();
          try {
            return await work();
          } finally {
            steps.observe({ kind, step }, (performance.now() - begun) / 1000);
          }
        },
        end(outcome) {
          if (ended) return;
          ended = true;
          inFlight.dec();
          jobs.observe({ kind, outcome }, (performance.now() - started) / 1000);
        },
      };
    },
  };
}
