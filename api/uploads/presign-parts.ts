import type { ApiContext } from '../context.ts';

interface PartTarget {
  objectKey: string;
  storageUploadId: string;
  expiresAt: Date;
}

/** Part URLs live for the configured TTL but never past the session's own expiry. */
export async function presignParts(ctx: ApiContext, target: PartTarget, partNumbers: number[]) {
  const remaining = Math.floor((target.expiresAt.getTime() - Date.now()) / 1000);
  const ttl = Math.max(1, Math.min(ctx.config.uploads.partUrlTtlSeconds, remaining));
  const parts = await Promise.all(
    partNumbers.map(async (partNumber) => ({
      partNumber,
      url: await ctx.storage.presignUploadPart(target.objectKey, target.storageUploadId, partNumber, ttl),
    })),
  );
  return { parts, expiresAt: new Date(Date.now() + ttl * 1000).toISOString() };
}
