import type { Static } from '@sinclair/typebox';
import { and, asc, count, eq, lt, sql } from 'drizzle-orm';
import type { Registry } from 'prom-client';
import type { StuckMediaList, StuckMediaQuery } from '../../contracts/ops.ts';
import type { Database } from '../../db/client.ts';
import { media } from '../../db/schema.ts';
import { computedGauge } from '../../platform/metrics/registry.ts';

/**
 * A media is stuck when it has been `processing` with no change (no status move, no partial result, no
 * progress) for longer than the bound: its request was lost, parked unreported, or its worker hangs.
 */
const stuck = (thresholdSeconds: number) =>
  and(
    eq(media.status, 'processing'),
    lt(media.updatedAt, sql`now() - make_interval(secs => ${thresholdSeconds})`),
  );

export async function countStuckMedia(db: Database, thresholdSeconds: number): Promise<number> {
  const [row] = await db.select({ n: count() }).from(media).where(stuck(thresholdSeconds));
  return row?.n ?? 0;
}

/** Oldest first: the longest-stuck media are the ones an operator looks at first. */
export async function listStuckMedia(
  db: Database,
  thresholdSeconds: number,
  query: StuckMediaQuery,
): Promise<Static<typeof StuckMediaList>> {
  const [rows, total] = await Promise.all([
    db
      .select({
        id: media.id,
        ownerId: media.ownerId,
        kind: media.kind,
        updatedAt: media.updatedAt,
        stuckForSeconds: sql<number>`floor(extract(epoch from now() - ${media.updatedAt}))::int`,
      })
      .from(media)
      .where(stuck(thresholdSeconds))
      .orderBy(asc(media.updatedAt))
      .limit(query.limit ?? 100),
    countStuckMedia(db, thresholdSeconds),
  ]);
  return {
    thresholdSeconds,
    total,
    items: rows.map((r) => ({
      id: r.id,
      ownerId: r.ownerId,
      kind: r.kind,
      lastChangeAt: r.updatedAt.toISOString(),
      stuckForSeconds: r.stuckForSeconds,
    })),
  };
}

/** `mediagate_media_stuck_processing`: what `GET /v1/ops/media/stuck` lists, as a number to alert on. */
export function registerStuckMediaGauge(registry: Registry, db: Database, thresholdSeconds: number): void {
  computedGauge(
    registry,
    'mediagate_media_stuck_processing',
    'Media processing with no change for longer than STUCK_PROCESSING_AFTER_SECONDS',
    () => countStuckMedia(db, thresholdSeconds),
  );
}
