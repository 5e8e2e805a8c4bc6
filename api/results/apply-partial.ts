import { and, eq, sql } from 'drizzle-orm';
import type { OptimizeResult } from '../../contracts/events.ts';
import type { Database } from '../../db/client.ts';
import { announce, announcedVariants, subjectOf } from '../../db/queries/lifecycle.ts';
import { media, mediaVariant } from '../../db/schema.ts';

/** Better outputs win the display pointer as they arrive: a higher rendition replaces a lower one. */
const displayRank: Record<string, number> = { low: 1, medium: 2, high: 3 };
const thumbnailQualities = new Set(['poster', 'thumbnail']);

/**
 * Applies a progress update or a partial result of a running job. Only a media still `processing` takes
 * them: a late partial after the final result (possible on buses without per-key order) changes nothing.
 * Idempotent without an event ledger: variants are upserted by quality and progress is overwritten; a
 * rendition is announced (`media.variant.ready`) only when it is new or replaces another, so a redelivered
 * partial announces nothing twice.
 */
export async function applyPartialResult(db: Database, result: OptimizeResult): Promise<'applied' | 'stale'> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(media)
      .where(and(eq(media.id, result.mediaId), eq(media.status, 'processing')))
      .for('update');
    if (!row) return 'stale';
    const held = await tx
      .select({ quality: mediaVariant.quality, key: mediaVariant.objectKey })
      .from(mediaVariant)
      .where(eq(mediaVariant.mediaId, row.id));
    const heldKeys = new Map(held.map((v) => [v.quality, v.key]));
    const fresh = result.processed.filter((output) => heldKeys.get(output.quality) !== output.key);
    let displayKey = row.displayKey;
    let displayQuality = row.displayKey ? qualityOf(row.displayKey) : undefined;
    let thumbnailKey = row.thumbnailKey;
    for (const output of result.processed) {
      await tx
        .insert(mediaVariant)
        .values({
          mediaId: row.id,
          quality: output.quality,
          format: output.format,
          objectKey: output.key,
          width: output.width,
          height: output.height,
          bytes: output.size,
        })
        .onConflictDoUpdate({
          target: [mediaVariant.mediaId, mediaVariant.quality],
          set: {
            objectKey: output.key,
            format: output.format,
            width: output.width,
            height: output.height,
            bytes: output.size,
          },
        });
      const rank = displayRank[output.quality];
      if (rank && rank > (displayRank[displayQuality ?? ''] ?? 0)) {
        displayKey = output.key;
        displayQuality = output.quality;
      }
      if (thumbnailQualities.has(output.quality) && !thumbnailKey) thumbnailKey = output.key;
    }
    await tx
      .update(media)
      .set({
        displayKey,
        thumbnailKey,
        progress: result.progress
          ? sql`coalesce(${media.progress}, '{}'::jsonb) || ${JSON.stringify(result.progress)}::jsonb`
          : row.progress,
        updatedAt: sql`now()`,
      })
      .where(eq(media.id, row.id));
    await announce(
      tx,
      announcedVariants(fresh.map((output) => ({ ...output, bytes: output.size }))).map((variant) => ({
        type: 'media.variant.ready',
        data: { ...subjectOf(row), variant },
      })),
    );
    return 'applied';
  });
}

function qualityOf(key: string): string | undefined {
  return key.split('/').pop()?.split('.')[0];
}
