/** The media itself cannot be processed: retrying will not help, so the result reports it. */
export class MediaRejectedError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}
