import { and, asc, eq, gt, gte, notInArray } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { type MediaView, retiredStatuses } from '../../contracts/media.ts';
import { media } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { loadMediaWithVariants, loadVariants, toMediaView } from './view.ts';

/**
 * A media someone else owns answers as missing unless it is public, ready and not awaiting a moderation
 * verdict (a long video judged asynchronously is its owner's alone until then); ids leak nothing across users.
 */
export async function getMedia(ctx: ApiContext, caller: Principal, mediaId: string): Promise<MediaView> {
  const found = await loadMediaWithVariants(ctx.db, mediaId);
  if (!found || !visibleTo(caller, found.row)) throw new AppError('media_not_found', `No media ${mediaId}`);
  return toMediaView(ctx.config, caller, found.row, found.variants);
}

function visibleTo(caller: Principal, row: typeof media.$inferSelect): boolean {
  const published =
    row.visibility === 'public' && row.status === 'ready' && row.moderationStatus !== 'pending';
  return (row.ownerId === caller.sub || published) && row.status !== 'deleted';
}

export async function listOwnMedia(
  ctx: ApiContext,
  caller: Principal,
  page: { limit?: number; after?: string },
): Promise<{ items: MediaView[]; nextAfter: string | null }> {
  const limit = page.limit ?? 50;
  const rows = await ctx.db
    .select()
    .from(media)
    .where(
      and(
        eq(media.ownerId, caller.sub),
        notInArray(media.status, retiredStatuses),
        page.after === undefined ? undefined : await pastCursor(ctx, caller, page.after),
      ),
    )
    .orderBy(asc(media.position), asc(media.createdAt))
    .limit(limit);
  const variants = await loadVariants(
    ctx.db,
    rows.map((r) => r.id),
  );
  const items = rows.map((r) => toMediaView(ctx.config, caller, r, variants.get(r.id) ?? []));
  const last = rows.at(-1);
  return { items, nextAfter: rows.length === limit && last ? last.id : null };
}

/**
 * The media after the cursor's media as the gallery stands now, so slots shifted by deletes and inserts
 * since the previous page neither skip nor repeat a media. A cursor media gone from the gallery keeps the
 * slot it last held, which its successor took over. Another user's media is as unknown as a made-up id.
 */
async function pastCursor(ctx: ApiContext, caller: Principal, cursorId: string) {
  const [cursor] = await ctx.db
    .select({ position: media.position, status: media.status })
    .from(media)
    .where(and(eq(media.id, cursorId), eq(media.ownerId, caller.sub)));
  if (!cursor) throw new AppError('media_not_found', `The \`after\` cursor names no media of yours`);
  return retiredStatuses.includes(cursor.status)
    ? gte(media.position, cursor.position)
    : gt(media.position, cursor.position);
}
