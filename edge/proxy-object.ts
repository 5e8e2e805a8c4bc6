import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../contracts/errors.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { ifRangeHolds, preconditions } from './conditional.ts';

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
 * stream, or one bounded window of a `Range`. Storage's ETag and Last-Modified go with it, so a player can
 * resume with `If-Range` (a changed object answers whole, RFC 9110 §13.1.5) or with `If-Match`, and
 * revalidate with `If-None-Match` or `If-Modified-Since` (see conditional.ts).
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
  if (head.etag) reply.header('etag', head.etag);
  if (head.lastModified) reply.header('last-modified', head.lastModified.toUTCString());
  const condition = preconditions(request.headers, head);
  if (condition === 'not-modified') return reply.status(304).send();
  if (condition === 'failed') {
    throw new AppError('precondition_failed', 'The object is not the version the request names');
  }
  const range = ifRangeHolds(request.headers, head) ? request.headers.range : undefined;
  const window = range === undefined ? undefined : byteRange(range, head.size);
  if (window === undefined) {
    if (head.size === 0) return reply.header('content-length', '0').send('');
    const abort = new AbortController();
    request.raw.once('close', () => abort.abort());
    const body = await storage.getStream(key, { signal: abort.signal });
    return reply.header('content-length', String(head.size)).send(body);
  }
  if (window === 'unsatisfiable') {
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
 * `unsatisfiable` when it names no byte of the object. A header that is not one valid byte range (another
 * unit, `5-2`, several ranges, which players do not send) is undefined: it is ignored and the whole object
 * answered, as RFC 9110 §14.2 lets a server do.
 */
export function byteRange(
  header: string,
  size: number,
): { start: number; end: number } | 'unsatisfiable' | undefined {
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first = '', last = ''] = match;
  if (first !== '' && last !== '' && BigInt(last) < BigInt(first)) return undefined;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size) return 'unsatisfiable';
  return { start, end: Math.min(end, start + MAX_RANGE_BYTES - 1) };
}
