import { and, asc, desc, eq, gte, inArray, isNotNull, isNull, lte, ne } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { type OptimizeRequest, topics } from '../../contracts/events.ts';
import type { OutboxQuery, ReplayBody } from '../../contracts/ops.ts';
import type { Database } from '../../db/client.ts';
import { enqueueEvents, type OutboxEvent } from '../../db/queries/outbox.ts';
import { media, outbox, outboxPending } from '../../db/schema.ts';
import type { Config } from '../../platform/config.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import { traceIdOf } from '../../platform/tracing/spans.ts';
import { edgeUrl } from '../media/urls.ts';
import { readOutboxBacklog } from '../outbox/backlog.ts';
import { assertOrderedRange } from './time-range.ts';

type OutboxRowDb = typeof outbox.$inferSelect;

export function outboxView(row: OutboxRowDb) {
  return {
    id: row.id,
    aggregateId: row.aggregateId,
    topic: row.topic,
    eventType: row.eventType,
    payload: row.payload,
    replayOf: row.replayOf,
    createdAt: row.createdAt.toISOString(),
    publishedAt: row.publishedAt?.toISOString() ?? null,
    attempts: row.attempts,
    lastError: row.lastError,
    // Rows written before the column existed kept it among their headers.
    traceId: traceIdOf(row.traceparent ?? row.headers.traceparent),
  };
}

/** Pending rows are the ones listed in `outbox_pending`, walked in its seq order. */
export async function listOutbox(db: Database, query: OutboxQuery) {
  const state = query.state ?? 'pending';
  const limit = query.limit ?? 100;
  const ofMedia = query.mediaId ? eq(outbox.aggregateId, query.mediaId) : undefined;
  const rows =
    state === 'pending'
      ? (
          await db
            .select({ outbox })
            .from(outboxPending)
            .innerJoin(outbox, eq(outbox.id, outboxPending.id))
            .where(ofMedia)
            .orderBy(asc(outboxPending.seq))
            .limit(limit)
        ).map((r) => r.outbox)
      : await db
          .select()
          .from(outbox)
          .where(and(state === 'published' ? isNotNull(outbox.publishedAt) : undefined, ofMedia))
          .orderBy(desc(outbox.seq))
          .limit(limit);
  const backlog = await readOutboxBacklog(db);
  return {
    pending: backlog.events,
    oldestPendingAgeSeconds: backlog.events > 0 ? backlog.oldestAgeSeconds : null,
    items: rows.map(outboxView),
  };
}

export interface ReplayDeps {
  db: Database;
  config: Pick<Config, 'edgePublicUrl'>;
  storage: Pick<ObjectStorage, 'head'>;
}

export type SkipReason = 'media_deleted' | 'media_rejected' | 'media_missing' | 'object_missing';

/**
 * A replay is a new event (new id, `replay_of` = the original) so consumers that already processed the
 * original process it again. Replays of replays point at the first original.
 *
 * An optimize request is rebuilt from its media's CURRENT row, not copied: since the original was written
 * the media may have been linked to a twin's objects (its own raw object deleted) or otherwise moved, and
 * the old key would only fail on every attempt and land in the DLQ. Events of media that are deleted,
 * rejected, gone, or whose original is no longer in storage are not replayed but reported in `skipped`;
 * one request per media is enough, however many originals the selector matched.
 *
 * Lifecycle events are facts, not work: a replay by media or by a time range is a reprocessing and leaves
 * them out; they are replayed when named by id or by their topic, copied whatever the media's state now,
 * their payload (and so the id consumers de-duplicate on) unchanged.
 */
export async function replayOutbox(deps: ReplayDeps, body: ReplayBody) {
  if ('from' in body) assertOrderedRange(body);
  const notFacts = ne(outbox.topic, topics.mediaLifecycle);
  const where =
    'ids' in body
      ? inArray(outbox.id, body.ids)
      : 'mediaId' in body
        ? and(eq(outbox.aggregateId, body.mediaId), isNull(outbox.replayOf), notFacts)
        : and(
            gte(outbox.createdAt, new Date(body.from)),
            lte(outbox.createdAt, new Date(body.to)),
            isNull(outbox.replayOf),
            body.topic ? eq(outbox.topic, body.topic) : notFacts,
          );
  const originals = await deps.db.select().from(outbox).where(where).orderBy(asc(outbox.seq)).limit(10_000);
  if (originals.length === 0) throw new AppError('not_found', 'No outbox events match the selector');
  const work = originals.filter((o) => o.topic !== topics.mediaLifecycle);
  const current = await currentMedia(deps, [...new Set(work.map((o) => o.aggregateId))]);
  const skipped = new Map<string, SkipReason>();
  const requested = new Set<string>();
  const events: OutboxEvent[] = [];
  for (const original of originals) {
    if (original.topic === topics.mediaLifecycle) {
      events.push(replayed(original, original.payload));
      continue;
    }
    const found = current.get(original.aggregateId);
    if (!found || found.reason) {
      skipped.set(original.aggregateId, found?.reason ?? 'media_missing');
      continue;
    }
    const { row } = found;
    const isRequest = original.topic === topics.optimizeRequest;
    if (isRequest && requested.has(row.id)) continue;
    if (isRequest) requested.add(row.id);
    events.push(replayed(original, isRequest ? optimizeRequestOf(deps.config, row) : original.payload));
  }
  const ids = await deps.db.transaction((tx) => enqueueEvents(tx, events));
  return {
    replayed: ids.map((id, i) => ({ id, replayOf: events[i]?.replayOf ?? '' })),
    skipped: [...skipped].map(([mediaId, reason]) => ({ mediaId, reason })),
  };
}

function replayed(original: OutboxRowDb, payload: unknown): OutboxEvent {
  return {
    aggregateId: original.aggregateId,
    topic: original.topic,
    eventType: original.eventType,
    payload,
    replayOf: original.replayOf ?? original.id,
    traceparent: original.traceparent ?? original.headers.traceparent,
  };
}

type MediaRow = typeof media.$inferSelect;

/** The media rows the events name, each with why its events cannot be replayed, if they cannot. */
async function currentMedia(deps: ReplayDeps, ids: string[]) {
  const rows = await deps.db.select().from(media).where(inArray(media.id, ids));
  const keys = [...new Set(rows.filter((row) => !retired(row)).map((row) => row.objectKey))];
  const missing = new Set<string>();
  // A few HEADs at a time: a range replay may name thousands of media.
  for (let i = 0; i < keys.length; i += 16) {
    const batch = keys.slice(i, i + 16);
    const heads = await Promise.all(batch.map((key) => deps.storage.head(key)));
    batch.forEach((key, j) => {
      if (heads[j] === undefined) missing.add(key);
    });
  }
  return new Map(rows.map((row) => [row.id, { row, reason: skipReasonOf(row, missing) }]));
}

const retired = (row: MediaRow) => row.status === 'deleted' || row.status === 'rejected';

function skipReasonOf(row: MediaRow, missingKeys: Set<string>): SkipReason | undefined {
  if (row.status === 'deleted') return 'media_deleted';
  if (row.status === 'rejected') return 'media_rejected';
  if (missingKeys.has(row.objectKey)) return 'object_missing';
  return undefined;
}

function optimizeRequestOf(config: ReplayDeps['config'], row: MediaRow): OptimizeRequest {
  return {
    mediaId: row.id,
    bucket: row.bucket,
    objectKey: row.objectKey,
    kind: row.kind,
    contentType: row.contentType,
    canonicalUrl: edgeUrl(config, row.objectKey),
    probe: row.probe ?? {},
  };
}
