import type pg from 'pg';

export interface ObjectReference {
  ownerId: string;
  status: string;
  visibility: string;
  isOriginal: boolean;
}

/** Every media that points at a key: deduplicated media share keys, so there can be several. */
export async function findReferences(pool: pg.Pool, key: string): Promise<ObjectReference[]> {
  const { rows } = await pool.query<{
    owner_id: string;
    status: string;
    visibility: string;
    is_original: boolean;
  }>(
    `select owner_id, status, visibility, true as is_original from media where object_key = $1
     union all
     select m.owner_id, m.status, m.visibility, false from media_variant v join media m on m.id = v.media_id
      where v.object_key = $1`,
    [key],
  );
  return rows.map((r) => ({
    ownerId: r.owner_id,
    status: r.status,
    visibility: r.visibility,
    isOriginal: r.is_original,
  }));
}

/**
 * A tiny TTL cache in front of the lookup: the edge answers most reads from memory, and a revocation
 * (delete, takedown, visibility change) is seen within the TTL.
 */
export function cachedReferences(pool: pg.Pool, ttlMs: number, maxEntries = 50_000) {
  const cache = new Map<string, { at: number; refs: ObjectReference[] }>();
  return async (key: string): Promise<ObjectReference[]> => {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < ttlMs) return hit.refs;
    const refs = await findReferences(pool, key);
    if (ttlMs > 0) {
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, { at: now, refs });
    }
    return refs;
  };
}

export type AccessDecision = 'public' | 'private' | 'unknown' | 'gone' | 'denied' | 'login';

const live = new Set(['processing', 'ready', 'failed']);

/**
 * Who may read a key. Originals (which may hold GPS) go to their owner and admins only; derivatives of
 * public, ready media go to anyone; everything else to its owner, an admin, or a holder of a URL token
 * the API issued for this key.
 */
export function decideAccess(
  refs: ObjectReference[],
  viewer: { sub: string; admin: boolean } | undefined,
  tokenGrantsKey: boolean,
): AccessDecision {
  if (refs.length === 0) return 'unknown';
  const alive = refs.filter((r) => live.has(r.status));
  if (alive.length === 0) return 'gone';
  if (alive.some((r) => !r.isOriginal && r.status === 'ready' && r.visibility === 'public')) return 'public';
  if (tokenGrantsKey) return 'private';
  if (!viewer) return 'login';
  if (viewer.admin || alive.some((r) => r.ownerId === viewer.sub)) return 'private';
  return 'denied';
}
