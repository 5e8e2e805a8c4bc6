import type { ProcessingFailureCode } from '../../contracts/errors.ts';
import { FfmpegError } from '../../platform/media/run-ffmpeg.ts';
import { MediaRejectedError } from '../media-rejected-error.ts';

export type MediaInputCode = Extract<ProcessingFailureCode, `media_${string}`>;

/**
 * The upload itself cannot be turned into video or audio derivatives, so retrying cannot help. It is a
 * MediaRejectedError, which the worker already reports as a visible `success: false` result.
 */
export class MediaInputError extends MediaRejectedError {
  override readonly code: MediaInputCode;

  constructor(code: MediaInputCode, message: string, cause?: unknown) {
    super(code, message);
    this.name = 'MediaInputError';
    this.code = code;
    if (cause !== undefined) this.cause = cause;
  }
}

/**
 * ffmpeg failing on the upload is the upload's fault; an abort (shutdown) or a missing binary is ours
 * and passes through unchanged so the request is retried.
 */
export function mediaInputErrorFrom(error: unknown, what: string): unknown {
  if (!(error instanceof FfmpegError) || error.reason === 'aborted') return error;
  if (error.reason === 'timeout')
    return new MediaInputError('media_timeout', `${what} exceeded its time budget`, error);
  return new MediaInputError('media_undecodable', `${what} could not be decoded: ${error.message}`, error);
}
