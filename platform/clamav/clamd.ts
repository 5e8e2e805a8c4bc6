import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { setImmediate as yieldToPoll } from 'node:timers/promises';

export type ScanResult = { clean: true } | { clean: false; virusName: string };

export interface ClamdOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  /** Longest silence tolerated on the socket; clamd says nothing while it scans, so cover the scan too. */
  idleTimeoutMs?: number;
}

/** clamd could not be reached, timed out, or answered something this client does not understand. */
export class ClamdError extends Error {
  override readonly name: string = 'ClamdError';
}

/** The stream went past clamd's StreamMaxLength: the file was not scanned, so it is neither clean nor infected. */
export class ClamdStreamTooLargeError extends ClamdError {
  override readonly name = 'ClamdStreamTooLargeError';
}

export interface Clamd {
  /** Streams the bytes to clamd as they come (zINSTREAM); never holds the whole file. */
  scan(stream: Readable): Promise<ScanResult>;
  /** true when clamd answers PONG; for readiness probes. */
  ping(): Promise<boolean>;
}

// clamd takes chunks of any size within StreamMaxLength; 64 KiB keeps each write small and steady.
const chunkBytes = 64 * 1024;

export function createClamd(options: ClamdOptions): Clamd {
  return {
    async scan(stream) {
      const upload = { announcedBytes: 0 };
      try {
        return parseScanReply(
          await exchange(options, 'zINSTREAM\0', (socket) => sendChunks(socket, stream, upload)),
        );
      } catch (error) {
        if (
          upload.announcedBytes > 0 &&
          isHangUp(error) &&
          (await refusesLength(options, upload.announcedBytes))
        ) {
          throw new ClamdStreamTooLargeError(`clamd refused the stream after ${upload.announcedBytes} bytes`);
        }
        throw error;
      } finally {
        // A stream cut short (clamd hung up, timeout) still holds its source open, e.g. an S3 GET.
        if (!stream.readableEnded) stream.destroy();
      }
    },
    async ping() {
      try {
        return (await exchange(options, 'zPING\0', async () => {})) === 'PONG';
      } catch {
        return false;
      }
    },
  };
}

/**
 * Sends one null-terminated command (the `z` form) and resolves with clamd's single null-terminated reply.
 * clamd may answer before we finish sending (size limit): the reply wins and the rest of the upload stops.
 */
function exchange(
  options: ClamdOptions,
  command: string,
  send: (socket: Socket) => Promise<void>,
): Promise<string> {
  const { host, port, connectTimeoutMs = 5_000, idleTimeoutMs = 30_000 } = options;
  return new Promise<string>((resolve, reject) => {
    const socket = connect({ host, port });
    let reply = '';
    let settled = false;
    const finish = (error: Error | undefined, value?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? '');
    };
    const connectTimer = setTimeout(
      () => finish(new ClamdError(`clamd at ${host}:${port}: no connection within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    socket.setTimeout(idleTimeoutMs, () =>
      finish(new ClamdError(`clamd at ${host}:${port}: no answer within ${idleTimeoutMs} ms`)),
    );
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const end = reply.indexOf('\0');
      if (end !== -1) finish(undefined, reply.slice(0, end));
    });
    socket.on('close', () =>
      finish(new ClamdError(`clamd closed the connection${reply ? `: ${reply}` : ''}`)),
    );
    socket.on('error', (error) => {
      // A write that fails because clamd already answered and hung up is not the interesting error.
      if (!reply) finish(new ClamdError(`clamd at ${host}:${port}: ${error.message}`, { cause: error }));
    });
    socket.once('connect', () => {
      clearTimeout(connectTimer);
      socket.write(command);
      send(socket).catch((error: Error) => finish(error));
    });
  });
}

async function sendChunks(
  socket: Socket,
  stream: Readable,
  upload: { announcedBytes: number },
): Promise<void> {
  try {
    for await (const data of stream) {
      const buffer = typeof data === 'string' ? Buffer.from(data) : (data as Buffer);
      for (let offset = 0; offset < buffer.length; offset += chunkBytes) {
        // clamd answers and hangs up mid-stream when the stream passes StreamMaxLength; polling between
        // chunks usually reads that answer before a write into the reset socket fails.
        await yieldToPoll();
        if (socket.destroyed) return;
        const chunk = buffer.subarray(offset, offset + chunkBytes);
        upload.announcedBytes += chunk.length;
        socket.write(lengthPrefix(chunk.length));
        if (!socket.write(chunk)) await drained(socket);
      }
    }
  } catch (error) {
    throw new ClamdError(`reading the stream to scan failed: ${(error as Error).message}`, { cause: error });
  }
  if (!socket.destroyed) socket.write(lengthPrefix(0));
}

/**
 * When a write lands in the socket clamd already reset, its answer is lost with the socket. clamd checks
 * each chunk's announced length against what is left of StreamMaxLength before reading it, so one header
 * announcing everything we had sent, and nothing after it, asks again without racing: an over-limit
 * length is refused at once; anything else (clamd restarted, stalled) is not the size limit.
 */
async function refusesLength(options: ClamdOptions, bytes: number): Promise<boolean> {
  try {
    const reply = await exchange(options, 'zINSTREAM\0', async (socket) => {
      socket.end(lengthPrefix(Math.min(bytes, 0xffff_ffff)));
    });
    return isSizeLimit(reply);
  } catch {
    return false;
  }
}

function lengthPrefix(length: number): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length);
  return header;
}

function isHangUp(error: unknown): boolean {
  const code = error instanceof Error ? (error.cause as NodeJS.ErrnoException | undefined)?.code : undefined;
  return code === 'EPIPE' || code === 'ECONNRESET';
}

function isSizeLimit(reply: string): boolean {
  return /size limit exceeded/i.test(reply);
}

function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

function parseScanReply(reply: string): ScanResult {
  if (reply === 'stream: OK') return { clean: true };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found?.[1]) return { clean: false, virusName: found[1] };
  if (isSizeLimit(reply)) throw new ClamdStreamTooLargeError(`clamd refused the stream: ${reply}`);
  throw new ClamdError(`clamd could not scan the stream: ${reply}`);
}
