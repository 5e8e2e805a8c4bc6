import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import type { OutboxBacklog } from '../../platform/metrics/outbox.ts';

/**
 * Unpublished rows and the oldest one's age, by the database's clock. The partial index on unpublished
 * rows keeps this cheap however large the published history grows.
 */
export async function readOutboxBacklog(db: Database): Promise<OutboxBacklog> {
  const { rows } = await db.execute<{ events: number; oldest: number | null }>(sql`
    select count(*)::int as events, extract(epoch from now() - min(created_at))::float8 as oldest
      from outbox where published_at is null`);
  const row = rows[0];
  return { events: row?.events ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest ?? 0) };
}
