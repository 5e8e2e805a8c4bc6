import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';

/**
 * Deletes queued storage objects once their grace period is over, unless a media row or a variant points
 * at them again (a dedupe clone, a replay that produced the same key). Queue rows are locked for the whole
 * pass and removed only after storage confirmed the delete, so a failed pass is simply retried.
 */
export async function sweepStorageGarbage(
  db: Database,
  storage: ObjectStorage,
  limit = 500,
): Promise<number> {
  return db.transaction(async (tx) => {
    const due = await tx.execute<{ object_key: string }>(sql`
      select object_key from storage_garbage where delete_after < now()
       order by delete_after limit ${limit} for update skip locked`);
    const keys = due.rows.map((r) => r.object_key);
    if (keys.length === 0) return 0;
    const referenced = await tx.execute<{ key: string }>(sql`
      select object_key as key from media where object_key = any(${keys}) and status <> 'deleted'
      union select object_key from media_variant where object_key = any(${keys})`);
    const keep = new Set(referenced.rows.map((r) => r.key));
    const doomed = keys.filter((k) => !keep.has(k));
    await storage.delete(doomed);
    await tx.execute(sql`delete from storage_garbage where object_key = any(${keys})`);
    return doomed.length;
  });
}

export function startGarbageSweeper(
  db: Database,
  storage: ObjectStorage,
  logger: Logger,
  intervalMs = 60_000,
) {
  const timer = setInterval(() => {
    sweepStorageGarbage(db, storage).then(
      (n) => n > 0 && logger.info({ deleted: n }, 'removed unreferenced storage objects'),
      (error) => logger.warn({ err: error }, 'storage sweep failed; will retry'),
    );
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
