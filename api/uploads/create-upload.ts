import { randomUUID } from 'node:crypto';
import { AppError } from '../../contracts/errors.ts';
import { kindOf, mediaTypeEssence } from '../../contracts/media-types.ts';
import { rawObjectKey } from '../../contracts/object-keys.ts';
import type { CreateUploadBody, UploadSession } from '../../contracts/uploads.ts';
import { lockGallery, placeInGallery } from '../../db/queries/gallery.ts';
import { recordCreation } from '../../db/queries/media-status.ts';
import { media, uploadSession } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { cloneOwnTwin, type Deduplicated } from './dedupe.ts';
import { planParts } from './part-plan.ts';
import { presignParts } from './presign-parts.ts';

export async function createUpload(
  ctx: ApiContext,
  caller: Principal,
  body: CreateUploadBody,
): Promise<UploadSession | Deduplicated> {
  const contentType = mediaTypeEssence(body.contentType);
  const kind = contentType === undefined ? undefined : kindOf(contentType);
  if (contentType === undefined || kind === undefined)
    throw new AppError('unsupported_media_type', `${body.contentType} is not an accepted content type`);
  const limit = ctx.config.uploads.maxBytes[kind];
  if (body.size > limit) {
    throw new AppError(
      'payload_too_large',
      `${kind} uploads are limited to ${limit} bytes; declared ${body.size}`,
    );
  }
  const clone = body.sha256 ? await cloneOwnTwin(ctx, caller, body.sha256, body) : undefined;
  if (clone) {
    ctx.metrics.created.inc({ kind, outcome: 'deduplicated' });
    return clone;
  }

  const mediaId = randomUUID();
  const uploadId = randomUUID();
  const objectKey = rawObjectKey(mediaId);
  const { partSize, partCount } = planParts(body.size, ctx.config.uploads.partSizeBytes);
  const storageUploadId = await ctx.storage.createMultipartUpload(objectKey, contentType);
  const expiresAt = new Date(Date.now() + ctx.config.uploads.sessionTtlSeconds * 1000);

  await ctx.db.transaction(async (tx) => {
    await lockGallery(tx, caller.sub);
    const position = await placeInGallery(tx, caller.sub, { id: mediaId, kind }, body.position);
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
      position,
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
  });

  const partNumbers = Array.from({ length: partCount }, (_, i) => i + 1);
  const target = { objectKey, storageUploadId, expiresAt, sizeBytes: body.size, partSize };
  const parts = await presignParts(ctx, target, partNumbers);
  ctx.metrics.created.inc({ kind, outcome: 'session' });
  return { mediaId, uploadId, partSize, partCount, parts: parts.parts, expiresAt: parts.expiresAt };
}
