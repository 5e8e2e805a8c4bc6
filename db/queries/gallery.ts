import { sql } from 'drizzle-orm';
import type { Queryable } from '../client.ts';
import { announceUpdates } from './lifecycle.ts';

/**
 * Serialises every change to one owner's gallery (new media, reorder, delete) so positions stay gapless
 * and consistent under concurrent requests. Held until the transaction ends.
 */
export async function lockGallery(tx: Queryable, ownerId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('gallery'), hashtext(${ownerId}))`);
}

interface GalleryEntry {
  id: string;
  kind: string;
}

/**
 * Renumbers an owner's gallery 0..n-1 in the given order, keeping the first video pinned to slot 0.
 * Only rows whose position changes are written, and each of them is announced (`media.updated`): apps
 * that mirror a gallery see every slot move, whichever request caused it. `unannounced` is a media the
 * caller announces otherwise (one just created). Returns the ids of the media that moved.
 */
export async function renumberGallery(
  tx: Queryable,
  ownerId: string,
  order?: (entries: GalleryEntry[]) => GalleryEntry[],
  unannounced?: string,
): Promise<string[]> {
  const result = await tx.execute<{ id: string; kind: string; position: number }>(sql`
    select id, kind, position from media
     where owner_id = ${ownerId} and status not in ('deleted', 'rejected')
     order by position, created_at, id`);
  let entries: GalleryEntry[] = result.rows;
  if (order) entries = order(entries);
  const video = entries.find((e) => e.kind === 'video');
  if (video) entries = [video, ...entries.filter((e) => e !== video)];
  const current = new Map(result.rows.map((r) => [r.id, r.position]));
  const changes = entries
    .map((e, position) => ({ id: e.id, position }))
    .filter((c) => current.get(c.id) !== c.position);
  if (changes.length === 0) return [];
  const ids = changes.map((c) => c.id);
  const positions = changes.map((c) => c.position);
  // sql.param binds each array as one array parameter; interpolated bare, drizzle spreads it into a row.
  await tx.execute(sql`
    update media m set position = v.position, updated_at = now()
      from unnest(${sql.param(ids)}::uuid[], ${sql.param(positions)}::int[]) as v(id, position)
     where m.id = v.id`);
  await announceUpdates(
    tx,
    ids.filter((id) => id !== unannounced),
  );
  return ids;
}

/**
 * Renumbers with a just-inserted `entry` at `position` (clamped), or at the end when none is asked for. The
 * entry's own placement is no update: its creation (or, for a clone, its `media.ready`) is what apps hear.
 */
export async function placeInGallery(
  tx: Queryable,
  ownerId: string,
  entry: GalleryEntry,
  position?: number,
): Promise<void> {
  await renumberGallery(
    tx,
    ownerId,
    (entries) => {
      const rest = entries.filter((e) => e.id !== entry.id);
      rest.splice(Math.min(position ?? rest.length, rest.length), 0, entry);
      return rest;
    },
    entry.id,
  );
}
