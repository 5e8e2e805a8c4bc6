import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../contracts/errors.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';

/**
 * The most one ranged answer carries. Players ask for open-ended ranges (`bytes=N-`) and read on; a
 * shorter 206 is theirs to continue, and the edge never holds more than this per request in memory.
 */
const MAX_RANGE_BYTES = 8 * 1024 * 1024;

/**
 * Serves a playback object's bytes through the edge, for a request that carries `Authorization`. Players that
 * send a header on every request (Flutter's video_player, ExoPlayer and AVPlayer with headers, ffmpeg's
 * `-headers`) keep it across a redirect, and a presigned storage URL refuses a request that carries a
 * second authentication mechanism — so for them the edge answers with the bytes: the whole object as a
 * stream, or one bounded window of a `Range`.
 */
export async function proxyObject(
  storage: ObjectStorage,
  key: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const head = await storage.head(key);
  if (!head) throw new AppError('object_not_found', 'No such object');
  reply
    .header('accept-ranges', 'bytes')
    .header('vary', [reply.getHeader('vary'), 'Authorization'].filter(Boolean).join(', '))
    .header('cache-control', 'private, no-store')
    .type(head.contentType ?? 'application/octet-stream');
  const range = request.headers.range;
  if (range === undefined) {
    if (head.size === 0) return reply.header('content-length', '0').send('');
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    const body = await storage.getStream(key, { signal: abort.signal });
    return reply.header('content-length', String(head.size)).send(body);
  }
  const window = byteRange(range, head.size);
  if (!window) {
    reply.header('content-range', `bytes */${head.size}`);
    throw new AppError('range_not_satisfiable', `${range} is outside the object's ${head.size} bytes`);
  }
  const bytes = await storage.readRange(key, window.start, window.end);
  return reply
    .status(206)
    .header('content-range', `bytes ${window.start}-${window.end}/${head.size}`)
    .header('content-length', String(bytes.length))
    .send(bytes);
}

/**
 * One range of `bytes=a-b`, `bytes=a-` or `bytes=-n`, clamped to the object and to MAX_RANGE_BYTES;
 * undefined when it is not satisfiable (or names several ranges, which players do not send).
 */
export function byteRange(header: string, size: number): { start: number; end: number } | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '') || size === 0) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) return undefined;
  return { start, end: Math.min(end, start + MAX_RANGE_BYTES - 1) };
}
