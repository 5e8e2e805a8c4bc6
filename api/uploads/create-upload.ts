import { randomUUID } from 'node:crypto';
import { and, eq, notInArray, sql } from 'drizzle-orm';
import { kindOf } from '../../contracts/media-types.ts';
import { rawObjectKey } from '../../contracts/object-keys.ts';
import type { CreateUploadBody, UploadSession } from '../../contracts/uploads.ts';
import type { Queryable } from '../../db/client.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { recordCreation } from '../../db/queries/media-status.ts';
import { media, uploadSession } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import { AppError } from '../../platform/http/problem.ts';
import type { ApiContext } from '../context.ts';
import { planParts } from './part-plan.ts';
import { presignParts } from './presign-parts.ts';

export async function createUpload(
  ctx: ApiContext,
  caller: Principal,
  body: CreateUploadBody,
): Promise<UploadSession> {
  const contentType = body.contentType.toLowerCase();
  const kind = kindOf(contentType);
  if (!kind)
    throw new AppError('unsupported_media_type', `${body.contentType} is not an accepted content type`);
  const limit = ctx.config.uploads.maxBytes[kind];
  if (body.size > limit) {
    throw new AppError(
      'payload_too_large',
      `${kind} uploads are limited to ${limit} bytes; declared ${body.size}`,
    );
  }

  const mediaId = randomUUID();
  const uploadId = randomUUID();
  const objectKey = rawObjectKey(mediaId);
  const { partSize, partCount } = planParts(body.size, ctx.config.uploads.partSizeBytes);
  const storageUploadId = await ctx.storage.createMultipartUpload(objectKey, contentType);
  const expiresAt = new Date(Date.now() + ctx.config.uploads.sessionTtlSeconds * 1000);

  await ctx.db.transaction(async (tx) => {
    await lockGallery(tx, caller.sub);
    await tx.insert(media).values({
      id: mediaId,
      ownerId: caller.sub,
      kind,
      status: 'awaiting_upload',
      bucket: ctx.storage.bucket,
      objectKey,
      filename: body.filename,
      contentType,
      sizeBytes: body.size,
      declaredSha256: body.sha256,
      position: await nextPosition(tx, caller.sub),
    });
    await tx.insert(uploadSession).values({
      id: uploadId,
      mediaId,
      ownerId: caller.sub,
      storageUploadId,
      objectKey,
      partSize,
      partCount,
      expiresAt,
      state: 'open',
    });
    await recordCreation(tx, mediaId, caller.sub);
    const wanted = body.position;
    await renumberGallery(tx, caller.sub, (entries) => {
      if (wanted === undefined) return entries;
      const rest = entries.filter((e) => e.id !== mediaId);
      rest.splice(Math.min(wanted, rest.length), 0, { id: mediaId, kind });
      return rest;
    });
  });

  const partNumbers = Array.from({ length: partCount }, (_, i) => i + 1);
  const parts = await presignParts(ctx, { objectKey, storageUploadId, expiresAt }, partNumbers);
  return { mediaId, uploadId, partSize, partCount, parts: parts.parts, expiresAt: parts.expiresAt };
}

/** New media join the end of the owner's gallery. */
async function nextPosition(tx: Queryable, ownerId: string): Promise<number> {
  const [row] = await tx
    .select({ next: sql<number>`coalesce(max(${media.position}) + 1, 0)::int` })
    .from(media)
    .where(and(eq(media.ownerId, ownerId), notInArray(media.status, ['deleted', 'rejected'])));
  return row?.next ?? 0;
}
