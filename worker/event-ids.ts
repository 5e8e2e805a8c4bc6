import { createHash } from 'node:crypto';

/**
 * The result of a request has an id derived from the request's id: a redelivered request yields a result
 * with the same id, which the results consumer then skips.
 */
export function resultEventId(requestId: string): string {
  const h = createHash('sha256').update(`${requestId}:result`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((Number.parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
