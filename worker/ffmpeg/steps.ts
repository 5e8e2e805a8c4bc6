import { FfmpegError } from '../../platform/media/run-ffmpeg.ts';
import type { MediaOutput } from './outputs.ts';

export interface StepEvents<Step extends string> {
  /** Called as each output is complete. Not awaited: start the upload and return, so work goes on. */
  onOutput?: (output: MediaOutput) => void;
  /** One step failed; its outputs are missing and the other steps go on. */
  onRenditionFailed?: (step: Step, error: unknown) => void;
  /** Wraps each step's build, to time it (the worker's step metrics). */
  timeStep?: (
    step: Step,
    build: () => Promise<MediaOutput | MediaOutput[]>,
  ) => Promise<MediaOutput | MediaOutput[]>;
}

export interface StepResults<Step extends string> {
  outputs: MediaOutput[];
  failures: { step: Step; error: unknown }[];
}

/**
 * Runs pipeline steps so that one failing step (a rendition, the poster) costs only its own outputs.
 * An abort is shutdown, not a step failure: it propagates at once.
 */
export function stepRunner<Step extends string>(events: StepEvents<Step>, signal: AbortSignal | undefined) {
  const results: StepResults<Step> = { outputs: [], failures: [] };
  const attempt = async (step: Step, build: () => Promise<MediaOutput | MediaOutput[]>): Promise<boolean> => {
    try {
      const built = events.timeStep ? events.timeStep(step, build) : build();
      for (const output of [await built].flat()) {
        results.outputs.push(output);
        events.onOutput?.(output);
      }
      return true;
    } catch (error) {
      if (signal?.aborted || (error instanceof FfmpegError && error.reason === 'aborted')) throw error;
      results.failures.push({ step, error });
      events.onRenditionFailed?.(step, error);
      return false;
    }
  };
  return { results, attempt };
}
