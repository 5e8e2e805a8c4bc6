import { and, eq, ne, sql } from 'drizzle-orm';
import type { Queryable } from '../../db/client.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { media, mediaVariant, storageGarbage } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import { AppError } from '../../platform/http/problem.ts';
import type { ApiContext } from '../context.ts';

/**
 * Deleting retires the row at once (the edge answers 410 from then on) and queues its objects; the
 * sweeper removes an object only when no other media row still references it (deduplicated clones
 * share keys), so a delete never breaks a shared object nor leaves an orphan.
 */
export async function deleteMedia(ctx: ApiContext, caller: Principal, mediaId: string): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await lockGallery(tx, caller.sub);
    const [row] = await tx
      .select()
      .from(media)
      .where(and(eq(media.id, mediaId), eq(media.ownerId, caller.sub), ne(media.status, 'deleted')));
    if (!row) throw new AppError('media_not_found', `No media ${mediaId}`);
    await retireMedia(tx, row.id, row.objectKey, caller.sub, { reason: 'deleted_by_owner' });
    await renumberGallery(tx, caller.sub);
  });
}

/** Marks a media deleted, drops its variant rows and queues every key it held for the sweeper. */
export async function retireMedia(
  tx: Queryable,
  mediaId: string,
  objectKey: string,
  actor: string,
  detail: Record<string, unknown>,
): Promise<void> {
  const variants = await tx
    .delete(mediaVariant)
    .where(eq(mediaVariant.mediaId, mediaId))
    .returning({ key: mediaVariant.objectKey });
  await transitionMedia(tx, {
    mediaId,
    from: ['awaiting_upload', 'processing', 'ready', 'failed', 'rejected'],
    to: 'deleted',
    actor,
    detail,
    patch: { displayKey: null, thumbnailKey: null },
  });
  const keys = [objectKey, ...variants.map((v) => v.key)];
  await tx
    .insert(storageGarbage)
    .values(keys.map((k) => ({ objectKey: k, deleteAfter: sql`now()` })))
    .onConflictDoNothing();
}
