import type pg from 'pg';

export interface ObjectReference {
  ownerId: string;
  status: string;
  visibility: string;
  isOriginal: boolean;
  /** Awaiting an asynchronous moderation verdict: owner-only until it arrives. */
  pendingModeration: boolean;
}

/** Every media that points at a key: deduplicated media share keys, so there can be several. */
export async function findReferences(pool: pg.Pool, key: string): Promise<ObjectReference[]> {
  const { rows } = await pool.query<{
    owner_id: string;
    status: string;
    visibility: string;
    is_original: boolean;
    pending: boolean;
  }>(
    `select owner_id, status, visibility, true as is_original,
            coalesce(moderation_status = 'pending', false) as pending
       from media where object_key = $1
     union all
     select m.owner_id, m.status, m.visibility, false, coalesce(m.moderation_status = 'pending', false)
       from media_variant v join media m on m.id = v.media_id
      where v.object_key = $1`,
    [key],
  );
  return rows.map((r) => ({
    ownerId: r.owner_id,
    status: r.status,
    visibility: r.visibility,
    isOriginal: r.is_original,
    pendingModeration: r.pending,
  }));
}

export type AccessDecision = 'public' | 'private' | 'unknown' | 'gone' | 'denied' | 'login';

const live = new Set(['processing', 'ready', 'failed']);

/**
 * Who may read a key. Originals (which may hold GPS) go to their owner and admins only; derivatives of
 * public, ready media go to anyone; everything else to its owner, an admin, or a holder of a URL token
 * the API issued for this key.
 */
export function decideAccess(
  refs: readonly ObjectReference[],
  viewer: { sub: string; admin: boolean } | undefined,
  tokenGrantsKey: boolean,
): AccessDecision {
  if (refs.length === 0) return 'unknown';
  // One pass, no intermediate arrays: this runs on every read.
  let alive = false;
  let owned = false;
  for (const r of refs) {
    if (!live.has(r.status)) continue;
    if (!r.isOriginal && r.status === 'ready' && r.visibility === 'public' && !r.pendingModeration) {
      return 'public';
    }
    alive = true;
    if (viewer !== undefined && r.ownerId === viewer.sub) owned = true;
  }
  if (!alive) return 'gone';
  if (tokenGrantsKey) return 'private';
  if (!viewer) return 'login';
  return viewer.admin || owned ? 'private' : 'denied';
}
