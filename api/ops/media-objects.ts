import type { Static } from '@sinclair/typebox';
import { eq, inArray } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import type { MediaObjects } from '../../contracts/ops.ts';
import type { Database } from '../../db/client.ts';
import { media, mediaVariant } from '../../db/schema.ts';
import type { Config } from '../../platform/config.ts';
import { viewerUrlFactory } from '../media/urls.ts';

/**
 * A media's storage keys (its original and every rendition) with a URL the operator's browser can open
 * (an `<img>` or `<video>` sends no Authorization header, so private keys carry a view token), and every
 * media that references each key: deduplicated copies share objects, and a key stays while one holds it.
 */
export async function mediaObjects(
  db: Database,
  config: Config,
  operator: string,
  mediaId: string,
): Promise<Static<typeof MediaObjects>> {
  const [row] = await db.select().from(media).where(eq(media.id, mediaId));
  if (!row) throw new AppError('media_not_found', `No media ${mediaId}`);
  const variants = await db.select().from(mediaVariant).where(eq(mediaVariant.mediaId, mediaId));
  const objects = [
    { objectKey: row.objectKey, role: 'original', format: row.contentType, bytes: row.sizeBytes },
    ...variants.map((v) => ({ objectKey: v.objectKey, role: v.quality, format: v.format, bytes: v.bytes })),
  ];
  const keys = objects.map((o) => o.objectKey);
  const holder = { objectKey: media.objectKey, id: media.id, ownerId: media.ownerId, status: media.status };
  const [originals, renditions] = await Promise.all([
    db.select(holder).from(media).where(inArray(media.objectKey, keys)),
    db
      .select({ ...holder, objectKey: mediaVariant.objectKey })
      .from(mediaVariant)
      .innerJoin(media, eq(media.id, mediaVariant.mediaId))
      .where(inArray(mediaVariant.objectKey, keys)),
  ]);
  const holders = [...originals, ...renditions];
  const url = viewerUrlFactory(config, operator, false);
  return {
    objects: objects.map((o) => ({
      ...o,
      url: url(o.objectKey),
      referencedBy: holders
        .filter((h) => h.objectKey === o.objectKey)
        .map((h) => ({ mediaId: h.id, ownerId: h.ownerId, status: h.status })),
    })),
  };
}
