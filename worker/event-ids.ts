import { createHash } from 'node:crypto';

/**
 * The result of a request has an id derived from the request's id: a redelivered request yields a result
 * with the same id, which the results consumer then skips.
 */
export function resultEventId(requestId: string): string {
  return derivedEventId(`${requestId}:result`);
}

/** A UUID-shaped id (version 5 layout) derived from `name`: the same work always gets the same id. */
export function derivedEventId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((Number.parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
