import { Readable } from 'node:stream';
import type { Frame } from './frames.ts';

/**
 * One client's event stream as a Readable the HTTP layer pipes to the socket, so writes follow the
 * socket's pace. A client that stops reading (a phone gone to sleep with the socket open) must not pin
 * memory: once more than `maxBufferedBytes` wait for it, the stream is ended and the client reconnects
 * from its Last-Event-ID when it wakes.
 */
export class SseStream {
  readonly body: Readable;
  #ended = false;
  readonly #maxBufferedBytes: number;
  readonly #onSent: (frame: Frame) => void;

  constructor(maxBufferedBytes: number, onSent: (frame: Frame) => void) {
    this.body = new Readable({ read() {} });
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#onSent = onSent;
    this.body.once('close', () => {
      this.#ended = true;
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** How long the client should wait before reconnecting after a drop (EventSource's `retry:`). */
  retry(ms: number): void {
    this.#write(`retry: ${ms}\n\n`);
  }

  send(frame: Frame): void {
    const id = frame.id === undefined ? '' : `id: ${frame.id}\n`;
    if (this.#write(`${id}event: ${frame.type}\ndata: ${JSON.stringify(frame.message)}\n\n`))
      this.#onSent(frame);
  }

  /** A comment line: proxies see traffic, EventSource ignores it. */
  ping(): void {
    this.#write(': ping\n\n');
  }

  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.body.push(null);
  }

  #write(text: string): boolean {
    if (this.#ended) return false;
    if (this.body.readableLength > this.#maxBufferedBytes) {
      this.#ended = true;
      this.body.destroy();
      return false;
    }
    this.body.push(text);
    return true;
  }
}
