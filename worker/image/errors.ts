import type { ProcessingFailureCode } from '../../contracts/errors.ts';

export type ImageRejectionCode = Extract<ProcessingFailureCode, `image_${string}`>;

/**
 * The upload itself is at fault, so retrying cannot help: the worker should fail the job permanently
 * and tell the user. Any other error escaping the image pipeline is ours (disk, memory, bugs) and
 * deserves a retry.
 */
export class ImageRejectedError extends Error {
  readonly code: ImageRejectionCode;

  constructor(code: ImageRejectionCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ImageRejectedError';
    this.code = code;
  }
}

// libvips aborts a pipeline past its `timeout` with a message like "timeout: 48% complete".
const SHARP_TIMEOUT_PREFIX = 'timeout:';

export function timedOut(cause?: unknown): ImageRejectedError {
  return new ImageRejectedError('image_timeout', 'image processing exceeded its time budget', { cause });
}

/**
 * Classifies an error thrown by sharp while it was reading untrusted input. Sharp only reports
 * strings, so this matches its messages; a missing input file is the worker's fault and passes through.
 */
export function rejectionFromDecodeError(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ImageRejectedError) return error;
  if (error.message.startsWith('Input file is missing')) return error;
  if (error.message.startsWith(SHARP_TIMEOUT_PREFIX)) return timedOut(error);
  if (error.message.includes('exceeds pixel limit')) {
    return new ImageRejectedError('image_too_large', 'image has more pixels than allowed', { cause: error });
  }
  return new ImageRejectedError('image_undecodable', 'image could not be decoded', { cause: error });
}

/** Once pixels are decoded, only a timeout is the upload's fault; anything else (disk, memory) is ours. */
export function rejectionFromEncodeError(error: unknown): unknown {
  return error instanceof Error && error.message.startsWith(SHARP_TIMEOUT_PREFIX) ? timedOut(error) : error;
}
