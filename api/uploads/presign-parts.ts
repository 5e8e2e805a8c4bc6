import type { ApiContext } from '../context.ts';
import { partLength } from './part-plan.ts';

interface PartTarget {
  objectKey: string;
  storageUploadId: string;
  expiresAt: Date;
  /** The declared size of the whole upload and its part size: each URL is signed for its part's length. */
  sizeBytes: number;
  partSize: number;
}

/**
 * Part URLs live for the configured TTL but never past the session's own expiry, and each binds its
 * part's exact length, so no part can carry more than the declared size allows.
 */
export async function presignParts(ctx: ApiContext, target: PartTarget, partNumbers: number[]) {
  const remaining = Math.floor((target.expiresAt.getTime() - Date.now()) / 1000);
  const ttl = Math.max(1, Math.min(ctx.config.uploads.partUrlTtlSeconds, remaining));
  const parts = await Promise.all(
    partNumbers.map(async (partNumber) => ({
      partNumber,
      url: await ctx.storage.presignUploadPart(
        target.objectKey,
        target.storageUploadId,
        { partNumber, contentLength: partLength(target.sizeBytes, target.partSize, partNumber) },
        ttl,
      ),
    })),
  );
  return { parts, expiresAt: new Date(Date.now() + ttl * 1000).toISOString() };
}
