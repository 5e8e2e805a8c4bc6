import { and, eq, inArray, ne, notInArray, or } from 'drizzle-orm';
import { retiredStatuses } from '../../contracts/media.ts';
import type { Queryable } from '../../db/client.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { media } from '../../db/schema.ts';
import { retireMedia } from '../media/delete-media.ts';

type MediaRow = typeof media.$inferSelect;

export interface Takedown {
  actor: string;
  detail: Record<string, unknown>;
  failure: { code: string; detail: string };
}

/**
 * Content the policy forbids is forbidden whoever holds it: the media and every live media holding the
 * same bytes — clones sharing its original, and, once the worker has hashed it, uploads with the same
 * verified SHA-256 (any owner, as the verdict cache already judges identical content once for everyone).
 * Each goes through retireMedia (status `rejected`, objects queued, 410 at the edge, its lifecycle event).
 */
export async function takeDownContent(tx: Queryable, row: MediaRow, t: Takedown): Promise<string[]> {
  const { clones, owners } = await lockContentGalleries(tx, row);
  const taken: string[] = [];
  for (const target of [{ id: row.id, objectKey: row.objectKey }, ...clones]) {
    const moved = await retireMedia(tx, {
      mediaId: target.id,
      objectKey: target.objectKey,
      actor: t.actor,
      to: 'rejected',
      by: 'moderation',
      detail: target.id === row.id ? t.detail : { ...t.detail, sameContentAs: row.id },
      failure: t.failure,
    });
    if (moved) taken.push(target.id);
  }
  if (taken.length > 0) {
    await tx.update(media).set({ moderationStatus: 'rejected' }).where(inArray(media.id, taken));
  }
  for (const owner of owners) await renumberGallery(tx, owner);
  return taken;
}

/**
 * Locks the gallery of every owner holding this content, in one order, like every writer of a gallery
 * (galleries before rows): call it before locking the row. Advisory locks are re-entrant, so the takedown
 * taking them again is free.
 */
export async function lockContentGalleries(
  tx: Queryable,
  row: Pick<MediaRow, 'id' | 'ownerId' | 'objectKey' | 'sha256'>,
) {
  const same = or(
    eq(media.objectKey, row.objectKey),
    row.sha256 === null ? undefined : eq(media.sha256, row.sha256),
  );
  const clones = await tx
    .select({ id: media.id, ownerId: media.ownerId, objectKey: media.objectKey })
    .from(media)
    .where(and(ne(media.id, row.id), notInArray(media.status, retiredStatuses), same));
  const owners = [...new Set([row.ownerId, ...clones.map((c) => c.ownerId)])].sort();
  for (const owner of owners) await lockGallery(tx, owner);
  return { clones, owners };
}
