import { asc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import type { MediaView } from '../../contracts/media.ts';
import type { Queryable } from '../../db/client.ts';
import { media, mediaVariant } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { Config } from '../../platform/config.ts';
import { viewerUrlFactory } from './urls.ts';

type MediaRow = typeof media.$inferSelect;
type VariantRow = typeof mediaVariant.$inferSelect;

export async function loadVariants(db: Queryable, mediaIds: string[]): Promise<Map<string, VariantRow[]>> {
  const byMedia = new Map<string, VariantRow[]>();
  if (mediaIds.length === 0) return byMedia;
  const rows = await db
    .select()
    .from(mediaVariant)
    .where(inArray(mediaVariant.mediaId, mediaIds))
    .orderBy(asc(mediaVariant.bytes));
  for (const row of rows) byMedia.set(row.mediaId, [...(byMedia.get(row.mediaId) ?? []), row]);
  return byMedia;
}

export async function loadVariantsOf(db: Queryable, mediaId: string): Promise<VariantRow[]> {
  return db
    .select()
    .from(mediaVariant)
    .where(eq(mediaVariant.mediaId, mediaId))
    .orderBy(asc(mediaVariant.bytes));
}

/** A variant row as json_build_object gives it: the same fields, its timestamp as text. */
type VariantJson = Omit<VariantRow, 'createdAt'> & { createdAt: string };

/**
 * Its variants as one JSON array, smallest first (as loadVariantsOf orders them), in the statement that reads
 * the media row: a client polling its media costs one round trip a poll.
 */
const variantsOfRow = sql<VariantJson[]>`coalesce((
  select json_agg(json_build_object(
    'mediaId', v.media_id, 'quality', v.quality, 'format', v.format, 'objectKey', v.object_key,
    'width', v.width, 'height', v.height, 'bytes', v.bytes, 'createdAt', v.created_at
  ) order by v.bytes)
  from ${mediaVariant} v where v.media_id = ${media.id}), '[]'::json)`;

/** A media row and its variants in one statement; undefined when there is no such media. */
export async function loadMediaWithVariants(
  db: Queryable,
  mediaId: string,
): Promise<{ row: MediaRow; variants: VariantRow[] } | undefined> {
  const [found] = await db
    .select({ ...getTableColumns(media), variantsJson: variantsOfRow })
    .from(media)
    .where(eq(media.id, mediaId));
  if (!found) return undefined;
  const { variantsJson, ...row } = found;
  return { row, variants: variantsJson.map((v) => ({ ...v, createdAt: new Date(v.createdAt) })) };
}

/**
 * A media whose processing failed still shows its owner what they uploaded: the original, through the edge
 * with a token (originals are never public; they may carry GPS).
 */
function originalUrl(config: Config, viewer: Principal, row: MediaRow): string | null {
  if (row.status !== 'failed' || row.ownerId !== viewer.sub) return null;
  return viewerUrlFactory(config, viewer.sub, false)(row.objectKey);
}

/** The one shape media leave the API in. Metadata (EXIF, GPS) is shown to the owner only. */
export function toMediaView(
  config: Config,
  viewer: Principal,
  row: MediaRow,
  variants: VariantRow[],
): MediaView {
  // Pending a moderation verdict, public media are read like private ones: the owner's URLs carry a token.
  const published = row.visibility === 'public' && row.moderationStatus !== 'pending';
  const url = viewerUrlFactory(config, viewer.sub, published);
  const isOwner = row.ownerId === viewer.sub;
  const retired = row.status === 'deleted' || row.status === 'rejected';
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    contentType: row.contentType,
    size: row.sizeBytes,
    visibility: row.visibility,
    url: row.displayKey ? url(row.displayKey) : originalUrl(config, viewer, row),
    thumbnailUrl: row.thumbnailKey ? url(row.thumbnailKey) : null,
    placeholder: row.placeholder,
    variants: (retired ? [] : variants.filter(namedInView)).map((v) => variantView(v, url)),
    metadata: isOwner ? (row.metadata ?? null) : null,
    progress: row.status === 'processing' ? (row.progress ?? null) : null,
    position: row.position,
    moderation: moderationOf(row.moderationStatus),
    failure: row.failureCode ? { code: row.failureCode, detail: row.failureDetail ?? '' } : null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function moderationOf(status: string | null): MediaView['moderation'] {
  return status === 'pending' || status === 'allowed' || status === 'rejected' || status === 'skipped'
    ? status
    : null;
}

/**
 * AVIF siblings of the WebP rungs are not views of their own: the edge sends a client that accepts AVIF to
 * the sibling of the WebP URL it asked for, so the view names each rung once, as WebP.
 */
export function namedInView(variant: VariantRow): boolean {
  return variant.format !== 'avif';
}

/** One rendition as clients see it, in the media view and in live status. */
export function variantView(v: VariantRow, url: (key: string) => string) {
  return {
    quality: v.quality,
    format: v.format,
    width: v.width,
    height: v.height,
    bytes: v.bytes,
    url: url(v.objectKey),
  };
}
