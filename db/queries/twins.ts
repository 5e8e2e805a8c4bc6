import { and, asc, eq, ne, sql } from 'drizzle-orm';
import type { Queryable } from '../client.ts';
import { media, mediaVariant } from '../schema.ts';
import { lockObjectKeys } from './object-refs.ts';

type MediaRow = typeof media.$inferSelect;
type VariantRow = typeof mediaVariant.$inferSelect;

/** A ready media holding the same bytes, with the variant rows whose objects it shares. */
export interface Twin {
  row: MediaRow;
  variants: VariantRow[];
}

export interface TwinQuery {
  /** The owner, or `{ ownerOf: mediaId }`: whoever owns that media, read in the same statement. */
  ownerId: string | { ownerOf: string };
  /** Compared with `media.sha256`, which only the worker's own hash of the stored bytes ever sets. */
  sha256: string;
  /** A client's declared size must match too: the hash is the proof, the size a cheap sanity check. */
  sizeBytes?: number;
  /** The media asking: never its own twin, nor one whose original it already shares. */
  not?: { mediaId: string };
}

/**
 * Finds the owner's oldest ready media with this verified hash and locks it for copying: its keys with
 * `lockObjectKeys`, against the sweeper; its row with a key-share lock, against a delete, takedown or
 * reprocess (all of which take FOR UPDATE through `transitionMedia`) until the copy commits. Media whose
 * moderation is still pending are skipped: a copy would escape the verdict that later takes the original
 * down. Returns undefined when there is no twin or it changed between the look and the lock; callers then
 * do the work the ordinary way, which is always correct.
 */
export async function lockVerifiedTwin(tx: Queryable, q: TwinQuery): Promise<Twin | undefined> {
  const [candidate] = await tx
    .select({ id: media.id, objectKey: media.objectKey })
    .from(media)
    .where(
      and(
        typeof q.ownerId === 'string'
          ? eq(media.ownerId, q.ownerId)
          : sql`${media.ownerId} = (select owner_id from media own where own.id = ${q.ownerId.ownerOf})`,
        eq(media.sha256, q.sha256),
        eq(media.status, 'ready'),
        sql`${media.moderationStatus} is distinct from 'pending'`,
        q.sizeBytes === undefined ? undefined : eq(media.sizeBytes, q.sizeBytes),
        q.not ? ne(media.id, q.not.mediaId) : undefined,
        q.not
          ? sql`${media.objectKey} <> (select object_key from media own where own.id = ${q.not.mediaId})`
          : undefined,
      ),
    )
    .orderBy(asc(media.createdAt))
    .limit(1);
  if (!candidate) return undefined;
  const seen = [candidate.objectKey, ...(await variantsOf(tx, candidate.id)).map((v) => v.objectKey)];
  await lockObjectKeys(tx, seen);

  const [row] = await tx
    .select()
    .from(media)
    .where(and(eq(media.id, candidate.id), eq(media.status, 'ready')))
    .for('key share');
  if (!row) return undefined;
  const variants = await variantsOf(tx, row.id);
  const locked = new Set(seen);
  if (![row.objectKey, ...variants.map((v) => v.objectKey)].every((k) => locked.has(k))) return undefined;
  return { row, variants };
}

function variantsOf(tx: Queryable, mediaId: string): Promise<VariantRow[]> {
  return tx.select().from(mediaVariant).where(eq(mediaVariant.mediaId, mediaId));
}

/**
 * Variant rows for `mediaId` that point at the twin's objects, returned as inserted and ordered smallest first
 * as the media view lists them, so a caller that shows them needs no read after its write.
 */
export async function copyVariants(tx: Queryable, mediaId: string, twin: Twin): Promise<VariantRow[]> {
  if (twin.variants.length === 0) return [];
  const copied = await tx
    .insert(mediaVariant)
    .values(
      twin.variants.map((v) => ({
        mediaId,
        quality: v.quality,
        format: v.format,
        objectKey: v.objectKey,
        width: v.width,
        height: v.height,
        bytes: v.bytes,
      })),
    )
    .returning();
  return copied.sort((a, b) => a.bytes - b.bytes);
}
