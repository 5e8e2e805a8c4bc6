import type pg from 'pg';
import { BoundedCache } from './bounded-cache.ts';
import { findReferences, type ObjectReference } from './object-access.ts';

export interface ReferenceCacheLimits {
  /** Keys that name media. */
  maxKnown?: number;
  /** Keys that name nothing: kept apart, so a scan of made-up keys cannot push out the keys being read. */
  maxUnknown?: number;
}

const noReferences: readonly ObjectReference[] = Object.freeze([]);

/**
 * Who points at a key, from memory for `ttlMs`: the edge answers most reads without the database, and a
 * revocation (delete, takedown, visibility change) is seen within `ttlMs`. An answer is kept from the moment
 * its query was sent, so whatever committed after that moment is seen no later than `ttlMs` after it.
 * Concurrent misses on one key share one query.
 */
export function cachedReferences(
  pool: pg.Pool,
  ttlMs: number,
  { maxKnown = 50_000, maxUnknown = 10_000 }: ReferenceCacheLimits = {},
): (key: string) => readonly ObjectReference[] | Promise<readonly ObjectReference[]> {
  if (ttlMs <= 0) return (key) => findReferences(pool, key);
  const known = new BoundedCache<readonly ObjectReference[]>(maxKnown);
  const unknown = new BoundedCache<true>(maxUnknown);
  const pending = new Map<string, Promise<readonly ObjectReference[]>>();

  const lookup = async (key: string, sentAt: number) => {
    try {
      const refs = await findReferences(pool, key);
      if (refs.length === 0) unknown.set(key, true, sentAt + ttlMs);
      else known.set(key, refs, sentAt + ttlMs);
      return refs;
    } finally {
      pending.delete(key);
    }
  };

  return (key) => {
    const now = Date.now();
    const refs = known.get(key, now);
    if (refs !== undefined) return refs;
    if (unknown.get(key, now)) return noReferences;
    let inFlight = pending.get(key);
    if (inFlight === undefined) {
      inFlight = lookup(key, now);
      pending.set(key, inFlight);
    }
    return inFlight;
  };
}
