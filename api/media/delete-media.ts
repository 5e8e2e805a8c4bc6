import { and, eq, ne, sql } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import type { DeletedBy, RejectedBy } from '../../contracts/lifecycle.ts';
import { hlsObjectKey, rungStopMarkKey } from '../../contracts/object-keys.ts';
import type { Queryable } from '../../db/client.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { type Destination, transitionMedia } from '../../db/queries/media-status.ts';
import { media, mediaVariant, storageGarbage, videoChunk, videoRung } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { completingError } from '../uploads/load-session.ts';
import { abortSessionOfMedia } from '../uploads/session-state.ts';

/**
 * Deleting retires the row at once (the edge answers 410 from then on) and queues its objects; the
 * sweeper removes an object only when no other media row still references it (deduplicated clones
 * share keys), so a delete never breaks a shared object nor leaves an orphan. A media still awaiting its
 * upload has the upload aborted with it, unless a completion is in flight: then `409 upload_completing`.
 */
export async function deleteMedia(ctx: ApiContext, caller: Principal, mediaId: string): Promise<void> {
  const upload = await ctx.db.transaction(async (tx) => {
    await lockGallery(tx, caller.sub);
    const [row] = await tx
      .select()
      .from(media)
      .where(and(eq(media.id, mediaId), eq(media.ownerId, caller.sub), ne(media.status, 'deleted')));
    if (!row) throw new AppError('media_not_found', `No media ${mediaId}`);
    const aborted =
      row.status === 'awaiting_upload'
        ? await abortSessionOfMedia(tx, row.id, ctx.config.uploads.completionLeaseSeconds)
        : undefined;
    if (aborted === 'completing') throw completingError();
    await retireMedia(tx, {
      mediaId: row.id,
      objectKey: row.objectKey,
      actor: caller.sub,
      to: 'deleted',
      by: 'owner',
      detail: { reason: 'deleted_by_owner' },
    });
    await renumberGallery(tx, caller.sub);
    return aborted;
  });
  if (!upload) return;
  // The delete stands whatever storage says; parts it keeps go with the bucket's abandoned-upload rule.
  await ctx.storage.abortMultipartUpload(upload.objectKey, upload.storageUploadId).catch((error: unknown) => {
    ctx.logger.warn({ err: error, mediaId }, 'parts of a deleted upload left to the lifecycle rule');
  });
}

/** `deleted` (by its owner, an operator, a takedown), or `rejected` when taken down (moderation, malware). */
export type Retirement = {
  mediaId: string;
  objectKey: string;
  actor: string;
  detail: Record<string, unknown>;
  failure?: { code: string; detail: string };
} & ({ to: 'deleted'; by: DeletedBy } | { to: 'rejected'; by: RejectedBy });

/**
 * Retires a media: moves it to `deleted` or `rejected`, and queues every key it
 * held for the sweeper, which removes only keys no other media references. Returns false when the media
 * was already retired.
 */
export async function retireMedia(tx: Queryable, r: Retirement): Promise<boolean> {
  const destination: Destination = r.to === 'deleted' ? { to: r.to, by: r.by } : { to: r.to, by: r.by };
  const moved = await transitionMedia(tx, {
    ...destination,
    mediaId: r.mediaId,
    from: [
      'awaiting_upload',
      'processing',
      'ready',
      'failed',
      ...(r.to === 'deleted' ? (['rejected'] as const) : []),
    ],
    actor: r.actor,
    detail: r.detail,
    patch: {
      displayKey: null,
      thumbnailKey: null,
      ...(r.failure ? { failureCode: r.failure.code, failureDetail: r.failure.detail } : {}),
    },
  });
  if (!moved) return false;
  // Variant rows stay: the edge answers 410 for their keys, and a retired row is no reference to the sweeper.
  const variants = await tx
    .select({ key: mediaVariant.objectKey })
    .from(mediaVariant)
    .where(eq(mediaVariant.mediaId, r.mediaId));
  const keys = [r.objectKey, ...variants.map((v) => v.key), ...(await chunkedVideoKeys(tx, r.mediaId))];
  await tx
    .insert(storageGarbage)
    .values(keys.map((k) => ({ objectKey: k, deleteAfter: sql`now()` })))
    .onConflictDoNothing();
  return true;
}

/**
 * A chunked video's segments and rung playlists, which have no variant rows: queued with the rest, the
 * sweeper keeps them while a live copy holds their master (liveReferences).
 */
async function chunkedVideoKeys(tx: Queryable, mediaId: string): Promise<string[]> {
  const chunks = await tx
    .select({ key: videoChunk.objectKey })
    .from(videoChunk)
    .where(eq(videoChunk.mediaId, mediaId));
  const rungs = await tx
    .select({ requestId: videoRung.requestId, quality: videoRung.quality })
    .from(videoRung)
    .where(eq(videoRung.mediaId, mediaId));
  return [
    ...chunks.flatMap((chunk) => (chunk.key ? [chunk.key] : [])),
    ...rungs.flatMap((rung) => [
      hlsObjectKey(mediaId, rung.requestId, `${rung.quality}/index.m3u8`),
      rungStopMarkKey(mediaId, rung.requestId, rung.quality),
    ]),
  ];
}
