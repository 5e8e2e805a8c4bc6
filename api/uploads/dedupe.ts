import { randomUUID } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import type { CreateUploadBody, DeduplicatedUpload } from '../../contracts/uploads.ts';
import { lockGallery, placeInGallery } from '../../db/queries/gallery.ts';
import { announce, announcedVariants, subjectOf } from '../../db/queries/lifecycle.ts';
import { copyVariants, lockVerifiedTwin } from '../../db/queries/twins.ts';
import { media, mediaEvent } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { toMediaView } from '../media/view.ts';

export type Deduplicated = Static<typeof DeduplicatedUpload>;

/**
 * Declared-hash dedupe: when the caller already owns a ready media whose bytes the worker hashed to the
 * declared sha256, the new media is a clone sharing its objects, ready at once, with no upload session,
 * gate or processing. Only the caller's own verified media can match, so a declared hash can never hand
 * anyone content they did not upload; a hash that matches nothing just starts an ordinary upload.
 */
export async function cloneOwnTwin(
  ctx: ApiContext,
  caller: Principal,
  sha256: string,
  body: CreateUploadBody,
): Promise<Deduplicated | undefined> {
  const id = randomUUID();
  const cloned = await ctx.db.transaction(async (tx) => {
    await lockGallery(tx, caller.sub);
    const twin = await lockVerifiedTwin(tx, {
      ownerId: caller.sub,
      sha256,
      sizeBytes: body.size,
    });
    if (!twin) return undefined;
    const source = twin.row;
    const position = await placeInGallery(tx, caller.sub, { id, kind: source.kind }, body.position);
    const [row] = await tx
      .insert(media)
      .values({
        id,
        ownerId: caller.sub,
        kind: source.kind,
        status: 'ready',
        bucket: source.bucket,
        objectKey: source.objectKey,
        filename: body.filename,
        // The source's type was judged from its bytes by the gate; the declaration here was not.
        contentType: source.contentType,
        sizeBytes: source.sizeBytes,
        declaredSha256: sha256,
        sha256: source.sha256,
        displayKey: source.displayKey,
        thumbnailKey: source.thumbnailKey,
        placeholder: source.placeholder,
        metadata: source.metadata,
        probe: source.probe,
        moderationStatus: source.moderationStatus,
        position,
      })
      .returning();
    if (!row) return undefined;
    const variants = await copyVariants(tx, id, twin);
    await tx.insert(mediaEvent).values({
      mediaId: id,
      fromStatus: null,
      toStatus: 'ready',
      actor: caller.sub,
      detail: { deduplicatedFrom: source.id },
    });
    // Born ready: apps hear of it as of any media that becomes ready.
    await announce(tx, [
      { type: 'media.ready', data: { ...subjectOf(row), variants: announcedVariants(variants) } },
    ]);
    return { row, variants };
  });
  if (!cloned) return undefined;
  return { deduplicated: true, media: toMediaView(ctx.config, caller, cloned.row, cloned.variants) };
}
