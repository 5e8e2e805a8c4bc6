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

type PlacedEntry = GalleryEntry & { position: number };

interface Move {
  id: string;
  position: number;
}

/** The owner's live media as they stand, in gallery order. */
async function liveEntries(tx: Queryable, ownerId: string): Promise<PlacedEntry[]> {
  const result = await tx.execute<{ id: string; kind: string; position: number }>(sql`
    select id, kind, position from media
     where owner_id = ${ownerId} and status not in ('deleted', 'rejected')
     order by position, created_at, id`);
  return result.rows;
}

/** The new positions, 0..n-1 in `entries` order with the first video pinned to slot 0, of the rows that move. */
function movesOf(current: PlacedEntry[], entries: GalleryEntry[]): Move[] {
  const video = entries.find((e) => e.kind === 'video');
  const ordered = video ? [video, ...entries.filter((e) => e !== video)] : entries;
  const before = new Map(current.map((r) => [r.id, r.position]));
  return ordered
    .map((e, position) => ({ id: e.id, position }))
    .filter((m) => before.get(m.id) !== m.position);
}

/** Writes the moves in one statement and announces each (`media.updated`). */
async function applyMoves(tx: Queryable, moves: Move[]): Promise<string[]> {
  if (moves.length === 0) return [];
  const ids = moves.map((m) => m.id);
  const positions = moves.map((m) => m.position);
  // sql.param binds each array as one array parameter; interpolated bare, drizzle spreads it into a row.
  await tx.execute(sql`
    update media m set position = v.position, updated_at = now()
      from unnest(${sql.param(ids)}::uuid[], ${sql.param(positions)}::int[]) as v(id, position)
     where m.id = v.id`);
  await announceUpdates(tx, ids);
  return ids;
}

/**
 * Renumbers an owner's gallery 0..n-1 in the given order, keeping the first video pinned to slot 0.
 * Only rows whose position changes are written, and each of them is announced (`media.updated`): apps
 * that mirror a gallery see every slot move, whichever request caused it. Returns the ids of the media
 * that moved.
 */
export async function renumberGallery(
  tx: Queryable,
  ownerId: string,
  order?: (entries: GalleryEntry[]) => GalleryEntry[],
): Promise<string[]> {
  const current = await liveEntries(tx, ownerId);
  return applyMoves(tx, movesOf(current, order ? order(current) : current));
}

/**
 * The position for a media about to be inserted, at `position` (clamped) or at the end when none is asked
 * for, after moving (and announcing) the others to make room. Called before the insert, under the gallery
 * lock, so the new row is written in its place: its creation (or, for a clone, its `media.ready`) is what
 * apps hear of it, never a move.
 */
export async function placeInGallery(
  tx: Queryable,
  ownerId: string,
  entry: GalleryEntry,
  position?: number,
): Promise<number> {
  const current = await liveEntries(tx, ownerId);
  const entries: GalleryEntry[] = [...current];
  entries.splice(Math.min(position ?? entries.length, entries.length), 0, entry);
  const moves = movesOf(current, entries);
  await applyMoves(
    tx,
    moves.filter((m) => m.id !== entry.id),
  );
  return moves.find((m) => m.id === entry.id)?.position ?? 0;
}
