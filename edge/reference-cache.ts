import type pg from 'pg';
import { BoundedCache } from './bounded-cache.ts';
import { findReferences, type ObjectReference } from './object-access.ts';

export interface ReferenceCacheLimits {
  /** Keys that name media. */
  maxKnown?: number;
  /** Keys that name nothing: kept apart, so a scan of made-up keys cannot push out the keys being read. */
  maxUnknown?: number;
}

/**
 * Who points at a key, and until when the edge may answer from this knowledge (epoch ms): an answer built on
 * it (a redirect's `max-age`, a playlist's) must not be cached past `until` either, or a revocation would
 * wait for the client's copy as well as the edge's.
 */
export interface KnownReferences {
  refs: readonly ObjectReference[];
  until: number;
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
): (key: string) => KnownReferences | Promise<KnownReferences> {
  if (ttlMs <= 0) return async (key) => ({ refs: await findReferences(pool, key), until: 0 });
  const known = new BoundedCache<KnownReferences>(maxKnown);
  const unknown = new BoundedCache<KnownReferences>(maxUnknown);
  const pending = new Map<string, Promise<KnownReferences>>();

  const lookup = async (key: string, sentAt: number) => {
    try {
      const refs = await findReferences(pool, key);
      const found = { refs: refs.length === 0 ? noReferences : refs, until: sentAt + ttlMs };
      (refs.length === 0 ? unknown : known).set(key, found, found.until);
      return found;
    } finally {
      pending.delete(key);
    }
  };

  return (key) => {
    const now = Date.now();
    const found = known.get(key, now) ?? unknown.get(key, now);
    if (found !== undefined) return found;
    let inFlight = pending.get(key);
    if (inFlight === undefined) {
      inFlight = lookup(key, now);
      pending.set(key, inFlight);
    }
    return inFlight;
  };
}
