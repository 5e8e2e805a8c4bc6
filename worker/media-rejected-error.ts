import type { ProcessingFailureCode } from '../contracts/errors.ts';

/** The media itself cannot be processed: retrying will not help, so the result reports it. */
export class MediaRejectedError extends Error {
  readonly code: ProcessingFailureCode;
  constructor(code: ProcessingFailureCode, message: string) {
    super(message);
    this.code = code;
  }
}
