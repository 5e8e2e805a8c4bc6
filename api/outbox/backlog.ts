import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import type { OutboxBacklog } from '../../platform/metrics/outbox.ts';

/**
 * Unpublished rows and the oldest one's age, by the database's clock. It walks `outbox_pending` (and each
 * pending row's outbox row for its time), so it stays cheap however large the published history grows. The
 * oldest is the earliest written, which need not be the lowest seq: a transaction's rows carry its start time.
 */
export async function readOutboxBacklog(db: Database): Promise<OutboxBacklog> {
  const { rows } = await db.execute<{ events: number; oldest: number | null }>(sql`
    select count(*)::int as events, extract(epoch from now() - min(o.created_at))::float8 as oldest
      from outbox_pending p join outbox o on o.id = p.id`);
  const row = rows[0];
  return { events: row?.events ?? 0, oldestAgeSeconds: Math.max(0, row?.oldest ?? 0) };
}
