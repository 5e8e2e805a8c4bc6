import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { liveReferences, lockObjectKeys } from '../../db/queries/object-refs.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';

export interface GarbagePass {
  deleted: number;
  /** Queued keys that a live media still references; its own retirement will queue them again. */
  kept: number;
}

/**
 * Deletes queued storage objects once their grace period is over, unless a live media row or variant
 * still points at them (a dedupe clone, a linked result). Two locks, both held until storage confirmed
 * the delete, make the check final: the key lock keeps copies from starting or committing meanwhile
 * (see `lockObjectKeys`), and the row locks in `liveReferences` wait out a retirement in flight, whose
 * own attempt to queue the key may have been swallowed by this very queue row. Queue rows go in the same
 * transaction, so a failed pass is simply retried.
 */
export async function sweepStorageGarbage(
  db: Database,
  storage: ObjectStorage,
  limit = 200,
): Promise<GarbagePass> {
  return db.transaction(async (tx) => {
    const due = await tx.execute<{ object_key: string }>(sql`
      select object_key from storage_garbage where delete_after <= now()
       order by delete_after limit ${limit} for update skip locked`);
    const keys = due.rows.map((r) => r.object_key);
    if (keys.length === 0) return { deleted: 0, kept: 0 };
    await lockObjectKeys(tx, keys);
    const live = await liveReferences(tx, keys);
    const doomed = keys.filter((k) => !live.has(k));
    await storage.delete(doomed);
    await tx.execute(sql`delete from storage_garbage where object_key = any(${sql.param(keys)}::text[])`);
    return { deleted: doomed.length, kept: keys.length - doomed.length };
  });
}

/** Runs passes until the due queue is empty. */
export async function drainStorageGarbage(db: Database, storage: ObjectStorage): Promise<GarbagePass> {
  const total = { deleted: 0, kept: 0 };
  for (;;) {
    const pass = await sweepStorageGarbage(db, storage);
    total.deleted += pass.deleted;
    total.kept += pass.kept;
    if (pass.deleted + pass.kept === 0) return total;
  }
}
