import { randomUUID } from 'node:crypto';
import { asc, inArray } from 'drizzle-orm';
import { topics } from '../../contracts/events.ts';
import {
  type LifecycleEvent,
  type LifecycleVariant,
  lifecycleSchemaVersion,
} from '../../contracts/lifecycle.ts';
import type { Queryable } from '../client.ts';
import { media, type mediaVariant } from '../schema.ts';
import { enqueueEvents } from './outbox.ts';

type MediaRow = typeof media.$inferSelect;
type VariantRow = typeof mediaVariant.$inferSelect;

/** An event before it has an id and a time: what the writer of a change knows (each type on its own). */
export type LifecycleDraft = LifecycleEvent extends infer E
  ? E extends unknown
    ? Omit<E, 'id' | 'version' | 'timestamp'>
    : never
  : never;

/**
 * Queues lifecycle events in the caller's transaction, keyed by media id, so they share the change's fate
 * (nothing is published for a rolled-back change) and keep its order per media. The payload's `id` is the
 * outbox row's event id: relay retries resend the same row, and an operator's replay copies the payload, so
 * every delivery of one event carries one id for consumers to de-duplicate on.
 */
export async function announce(tx: Queryable, drafts: LifecycleDraft[]): Promise<void> {
  const timestamp = new Date().toISOString();
  await enqueueEvents(
    tx,
    drafts.map((draft) => {
      const id = randomUUID();
      return {
        id,
        aggregateId: draft.data.mediaId,
        topic: topics.mediaLifecycle,
        eventType: draft.type,
        payload: { id, version: lifecycleSchemaVersion, timestamp, ...draft },
      };
    }),
  );
}

/**
 * `media.updated` for each media whose visibility or position a change moved, as it now stands: called once
 * per media per change, after every write of it, so one request announces each media once.
 */
export async function announceUpdates(tx: Queryable, mediaIds: string[]): Promise<void> {
  if (mediaIds.length === 0) return;
  const rows = await tx
    .select({
      id: media.id,
      ownerId: media.ownerId,
      kind: media.kind,
      visibility: media.visibility,
      position: media.position,
    })
    .from(media)
    .where(inArray(media.id, mediaIds))
    .orderBy(asc(media.position));
  await announce(
    tx,
    rows.map((row) => ({
      type: 'media.updated',
      data: { ...subjectOf(row), visibility: row.visibility, position: row.position },
    })),
  );
}

/** Who a media belongs to and what it is, as every lifecycle event names it. */
export function subjectOf(row: Pick<MediaRow, 'id' | 'ownerId' | 'kind'>) {
  return { mediaId: row.id, ownerId: row.ownerId, kind: row.kind };
}

/** The reason a failed or rejected media shows its owner (`failure` in the media view). */
export function reasonOf(row: Pick<MediaRow, 'failureCode' | 'failureDetail'>) {
  return { code: row.failureCode ?? 'processing_failed', detail: row.failureDetail ?? '' };
}

/**
 * Renditions as the media view names them: AVIF siblings of WebP rungs are served by the edge in their
 * rung's place, so an app is never told about them separately.
 */
export function announcedVariants(
  variants: Pick<VariantRow, 'quality' | 'format' | 'width' | 'height' | 'bytes'>[],
): LifecycleVariant[] {
  return variants
    .filter((v) => v.format !== 'avif')
    .map((v) => ({ quality: v.quality, format: v.format, width: v.width, height: v.height, bytes: v.bytes }));
}
