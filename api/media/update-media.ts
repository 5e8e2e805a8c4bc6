import { and, eq, notInArray, sql } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { type MediaView, retiredStatuses, type UpdateMediaBody } from '../../contracts/media.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { announceUpdates } from '../../db/queries/lifecycle.ts';
import { media } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { getMedia } from './read-media.ts';

/**
 * Moves a media to `position` (others shift, gaps close) and/or changes its visibility. A move is clamped
 * to what the gallery allows rather than refused: a position past the end means the end, and slot 0
 * stays the video's (an image asked there lands in slot 1, a video asked elsewhere stays put). The answer
 * is the media as stored, so its `position` is always the one it holds. Each media the request moves or
 * changes is announced once (`media.updated`); asking for what already holds announces nothing.
 */
export async function updateMedia(
  ctx: ApiContext,
  caller: Principal,
  mediaId: string,
  body: UpdateMediaBody,
): Promise<MediaView> {
  await ctx.db.transaction(async (tx) => {
    await lockGallery(tx, caller.sub);
    const [row] = await tx
      .select({ id: media.id, visibility: media.visibility })
      .from(media)
      .where(
        and(eq(media.id, mediaId), eq(media.ownerId, caller.sub), notInArray(media.status, retiredStatuses)),
      );
    if (!row) throw new AppError('media_not_found', `No media ${mediaId}`);
    const visibilityChanged = body.visibility !== undefined && body.visibility !== row.visibility;
    if (visibilityChanged) {
      // Guarded like the read: a takedown that does not hold the gallery lock may have landed in between.
      const changed = await tx
        .update(media)
        .set({ visibility: body.visibility, updatedAt: sql`now()` })
        .where(and(eq(media.id, mediaId), notInArray(media.status, retiredStatuses)))
        .returning({ id: media.id });
      if (changed.length === 0) throw new AppError('media_not_found', `No media ${mediaId}`);
    }
    const target = body.position;
    const moved =
      target === undefined
        ? []
        : await renumberGallery(tx, caller.sub, (entries) => {
            const moving = entries.find((e) => e.id === mediaId);
            const rest = entries.filter((e) => e.id !== mediaId);
            if (moving) rest.splice(Math.min(target, rest.length), 0, moving);
            return rest;
          });
    if (visibilityChanged && !moved.includes(mediaId)) await announceUpdates(tx, [mediaId]);
  });
  return getMedia(ctx, caller, mediaId);
}
