import { sql } from 'drizzle-orm';
import type { Queryable } from '../client.ts';

/**
 * Serialises, per storage key, "start referencing a key someone references" (a dedupe clone, a linked
 * result) against "decide the key is unreferenced and delete it" (the sweeper). References are only ever
 * copied from a live one, so a key with no live reference never gains one again; with this lock held,
 * the sweeper's check runs either before a copy starts (the copy then finds its source retired) or
 * after it committed (the check then sees the copy). Sorted, so overlapping holders cannot deadlock.
 */
export async function lockObjectKeys(tx: Queryable, keys: string[]): Promise<void> {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return;
  await tx.execute(sql`
    select pg_advisory_xact_lock(hashtext('object-key'), hashtext(k))
      from unnest(${sql.param(sorted)}::text[]) with ordinality as t(k, n) order by n`);
}

/**
 * An HLS package's playlists and segments (`derived/{mediaId}/{requestId}/hls/…`) have no rows of their own:
 * like the edge, they count as referenced while their master playlist's variant is (a deduplicated copy
 * holds its twin's master).
 */
export const hlsMember = '^(derived/[^/]+/[^/]+/hls/).+$';
export const hlsMaster = '\\1master.m3u8';

/**
 * The keys among `keys` that a live media row or its variants still point at (an HLS package's members
 * through its master); `deleted` and `rejected` rows no longer need their bytes (the edge answers 410). Referencing media rows are key-share-locked:
 * every retirement goes through `transitionMedia`'s FOR UPDATE, so one in flight is waited for and then
 * seen as retired, and none can start until this transaction ends. A plain share lock would also block
 * the position updates a delete makes to the owner's other media, which deadlocks against a delete
 * whose row this sweep is waiting for.
 */
export async function liveReferences(tx: Queryable, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const originals = await tx.execute<{ key: string }>(sql`
    select object_key as key from media
     where object_key = any(${sql.param(keys)}::text[]) and status not in ('deleted', 'rejected')
       for key share`);
  const variants = await tx.execute<{ key: string }>(sql`
    select c.key from unnest(${sql.param(keys)}::text[]) as c(key)
      join media_variant v on v.object_key = regexp_replace(c.key, ${hlsMember}, ${hlsMaster})
      join media m on m.id = v.media_id
     where m.status not in ('deleted', 'rejected')
       for key share of m`);
  return new Set([...originals.rows, ...variants.rows].map((r) => r.key));
}

/** Queues keys for the sweeper, which deletes each once `graceSeconds` passed and nobody references it. */
export async function queueForDeletion(tx: Queryable, keys: string[], graceSeconds = 0): Promise<void> {
  if (keys.length === 0) return;
  await tx.execute(sql`
    insert into storage_garbage (object_key, delete_after)
    select k, now() + make_interval(secs => ${graceSeconds}) from unnest(${sql.param(keys)}::text[]) as k
    on conflict do nothing`);
}
