import type { ServerResponse } from 'node:http';

/**
 * What a vendor double does instead of answering normally, one fault per request in the order queued:
 * an HTTP error (with Retry-After when given), a delay before the normal answer, no answer at all, or a
 * dropped connection.
 */
export type Fault =
  | { status: number; retryAfter?: string; body?: unknown }
  | { delayMs: number }
  | { hang: true }
  | { drop: true };

export class FaultQueue {
  readonly #queue: Fault[] = [];
  readonly #errorBody: (status: number) => unknown;

  /** `errorBody` answers an injected HTTP error in the vendor's own error format. */
  constructor(errorBody: (status: number) => unknown) {
    this.#errorBody = errorBody;
  }

  push(...faults: Fault[]): void {
    this.#queue.push(...faults);
  }

  /** Plays the next fault on this response; true when it answered (or never will), false to answer normally. */
  async play(res: ServerResponse): Promise<boolean> {
    const fault = this.#queue.shift();
    if (!fault) return false;
    if ('delayMs' in fault) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, fault.delayMs);
        // A client that gave up closes the connection; stop waiting so the double can shut down.
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return res.destroyed;
    }
    if ('hang' in fault) return true;
    if ('drop' in fault) {
      res.socket?.destroy();
      return true;
    }
    res.writeHead(fault.status, {
      'content-type': 'application/json',
      ...(fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }),
    });
    res.end(JSON.stringify(fault.body ?? this.#errorBody(fault.status)));
    return true;
  }
}
