import { asc, eq } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import type { Database } from '../../db/client.ts';
import { media, mediaEvent, mediaVariant, outbox } from '../../db/schema.ts';
import { outboxView } from './outbox-ops.ts';

/** Everything known about one media's journey: its row, each status change, its events and outputs. */
export async function traceMedia(db: Database, mediaId: string) {
  const [row] = await db.select().from(media).where(eq(media.id, mediaId));
  if (!row) throw new AppError('media_not_found', `No media ${mediaId}`);
  const [events, outboxRows, variants] = await Promise.all([
    db.select().from(mediaEvent).where(eq(mediaEvent.mediaId, mediaId)).orderBy(asc(mediaEvent.id)),
    db.select().from(outbox).where(eq(outbox.aggregateId, mediaId)).orderBy(asc(outbox.seq)),
    db.select().from(mediaVariant).where(eq(mediaVariant.mediaId, mediaId)),
  ]);
  return {
    media: { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() },
    events: events.map((e) => ({ ...e, at: e.at.toISOString() })),
    outbox: outboxRows.map(outboxView),
    variants: variants.map((v) => ({ ...v, createdAt: v.createdAt.toISOString() })),
  };
}
