import type { Static } from '@sinclair/typebox';
import { and, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import type { MediaSearchQuery, MediaSearchResult } from '../../contracts/ops.ts';
import type { Database } from '../../db/client.ts';
import { media } from '../../db/schema.ts';
import { assertOrderedRange } from './time-range.ts';

/** Every filter narrows; none lists the newest media. Ids and owners match exactly (no scans by pattern). */
export async function searchMedia(
  db: Database,
  query: MediaSearchQuery,
): Promise<Static<typeof MediaSearchResult>> {
  assertOrderedRange(query);
  const filters: (SQL | undefined)[] = [
    query.id ? eq(media.id, query.id) : undefined,
    query.owner ? eq(media.ownerId, query.owner) : undefined,
    query.status ? eq(media.status, query.status) : undefined,
    query.kind ? eq(media.kind, query.kind) : undefined,
    query.failureCode ? eq(media.failureCode, query.failureCode) : undefined,
    query.from ? gte(media.createdAt, new Date(query.from)) : undefined,
    query.to ? lt(media.createdAt, new Date(query.to)) : undefined,
  ];
  const rows = await db
    .select({
      id: media.id,
      ownerId: media.ownerId,
      kind: media.kind,
      status: media.status,
      filename: media.filename,
      sizeBytes: media.sizeBytes,
      failureCode: media.failureCode,
      createdAt: media.createdAt,
      updatedAt: media.updatedAt,
    })
    .from(media)
    .where(and(...filters))
    .orderBy(desc(media.createdAt), desc(media.id))
    .limit(query.limit ?? 50);
  return {
    items: rows.map((r) => ({
      ...r,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
    })),
  };
}
