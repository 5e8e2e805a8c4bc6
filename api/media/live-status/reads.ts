import { and, asc, desc, eq, gt, inArray, max } from 'drizzle-orm';
import type { Queryable } from '../../../db/client.ts';
import { media, mediaEvent, mediaVariant } from '../../../db/schema.ts';

export type MediaRow = typeof media.$inferSelect;
export type VariantRow = typeof mediaVariant.$inferSelect;
export type TransitionRow = typeof mediaEvent.$inferSelect;

/** What changed about a set of media since a transition id: read transitions first, rows last. */
export interface MediaChanges {
  rows: Map<string, MediaRow>;
  transitions: Map<string, TransitionRow[]>;
  variants: Map<string, VariantRow[]>;
}

/**
 * The cheap question the shared poller asks every tick for all watched media at once: every write to a
 * media (transition, rendition, progress) sets its `updated_at`, so an unchanged version means nothing to
 * read.
 */
export async function readVersions(db: Queryable, mediaIds: string[]): Promise<Map<string, string>> {
  const rows = await db
    .select({ id: media.id, status: media.status, updatedAt: media.updatedAt })
    .from(media)
    .where(inArray(media.id, mediaIds));
  return new Map(rows.map((r) => [r.id, versionOf(r)]));
}

export function versionOf(row: Pick<MediaRow, 'status' | 'updatedAt'>): string {
  return `${row.status}@${row.updatedAt.toISOString()}`;
}

/**
 * Transitions and renditions before the rows: a terminal transition and the row fields it set (failure,
 * variants) commit together, so rows read afterwards are at least as new as every transition returned.
 */
export async function readChanges(
  db: Queryable,
  mediaIds: string[],
  afterEventId: number,
): Promise<MediaChanges> {
  const transitions = await db
    .select()
    .from(mediaEvent)
    .where(and(inArray(mediaEvent.mediaId, mediaIds), gt(mediaEvent.id, afterEventId)))
    .orderBy(asc(mediaEvent.id));
  const variants = await db
    .select()
    .from(mediaVariant)
    .where(inArray(mediaVariant.mediaId, mediaIds))
    .orderBy(asc(mediaVariant.bytes));
  const rows = await db.select().from(media).where(inArray(media.id, mediaIds));
  return {
    rows: new Map(rows.map((r) => [r.id, r])),
    transitions: group(transitions),
    variants: group(variants),
  };
}

export async function readMedia(db: Queryable, mediaId: string): Promise<MediaRow | undefined> {
  const [row] = await db.select().from(media).where(eq(media.id, mediaId));
  return row;
}

export async function lastTransition(db: Queryable, mediaId: string): Promise<TransitionRow | undefined> {
  const [row] = await db
    .select()
    .from(mediaEvent)
    .where(eq(mediaEvent.mediaId, mediaId))
    .orderBy(desc(mediaEvent.id))
    .limit(1);
  return row;
}

export async function latestTransitionId(db: Queryable, mediaId: string): Promise<number> {
  const [row] = await db
    .select({ id: max(mediaEvent.id) })
    .from(mediaEvent)
    .where(eq(mediaEvent.mediaId, mediaId));
  return Number(row?.id ?? 0);
}

function group<T extends { mediaId: string }>(rows: T[]): Map<string, T[]> {
  const byMedia = new Map<string, T[]>();
  for (const row of rows) byMedia.set(row.mediaId, [...(byMedia.get(row.mediaId) ?? []), row]);
  return byMedia;
}

/** What a Last-Event-ID is checked against: every status move of the media and every rendition it has. */
export async function readHistory(
  db: Queryable,
  mediaId: string,
): Promise<{ transitions: Pick<TransitionRow, 'id' | 'toStatus'>[]; variants: VariantRow[] }> {
  const transitions = await db
    .select({ id: mediaEvent.id, toStatus: mediaEvent.toStatus })
    .from(mediaEvent)
    .where(eq(mediaEvent.mediaId, mediaId))
    .orderBy(asc(mediaEvent.id));
  const variants = await db.select().from(mediaVariant).where(eq(mediaVariant.mediaId, mediaId));
  return { transitions, variants };
}
