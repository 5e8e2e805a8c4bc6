import type { Database } from '../../db/client.ts';
import type { Logger } from '../../platform/logger.ts';
import { repeatEvery } from '../../platform/repeat.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';
import { expireUploadSessions } from './expire-sessions.ts';
import { drainStorageGarbage } from './garbage-pass.ts';
import { type KeyLister, queueOrphans } from './orphans.ts';

/** A completion that passed its deadline check just in time gets this long to finish. */
const sessionGraceSeconds = 15 * 60;
const orphanScanIntervalMs = 3600_000;
/** Longer than any processing run, so a worker's fresh derivatives are never mistaken for orphans. */
const orphanGraceSeconds = 24 * 3600;

export interface SweepOptions {
  /** Replaces both grace periods, for an operator who knows nothing is in flight (and for tests). */
  graceSeconds?: number;
  /** Without one, the orphan scan is skipped (`orphansQueued: null`). */
  lister?: KeyLister;
}

export interface SweepReport {
  sessionsExpired: number;
  orphansQueued: number | null;
  objectsDeleted: number;
  objectsKept: number;
}

/**
 * One full storage sweep: close expired upload sessions, queue orphaned objects, then delete every queued
 * object nobody references. Each step queues for the next, so one call leaves nothing due behind.
 */
export async function runStorageSweep(
  db: Database,
  storage: ObjectStorage,
  options: SweepOptions = {},
): Promise<SweepReport> {
  const sessionsExpired = await expireUploadSessions(
    db,
    storage,
    options.graceSeconds ?? sessionGraceSeconds,
  );
  const orphansQueued = options.lister
    ? await queueOrphans(db, options.lister, options.graceSeconds ?? orphanGraceSeconds)
    : null;
  const garbage = await drainStorageGarbage(db, storage);
  return { sessionsExpired, orphansQueued, objectsDeleted: garbage.deleted, objectsKept: garbage.kept };
}

/** Sweeps every `intervalMs`; a slow sweep delays the next one rather than overlapping it. */
export function startGarbageSweeper(
  db: Database,
  storage: ObjectStorage,
  logger: Logger,
  intervalMs = 60_000,
) {
  let lastOrphanScan = 0;
  return repeatEvery(
    intervalMs,
    async () => {
      // Listing the bucket is the costly part: once an hour is plenty for objects a crash left behind.
      const scanOrphans = Date.now() - lastOrphanScan > orphanScanIntervalMs;
      if (scanOrphans) lastOrphanScan = Date.now();
      const report = await runStorageSweep(db, storage, scanOrphans ? { lister: storage } : {});
      if (report.sessionsExpired + report.objectsDeleted + (report.orphansQueued ?? 0) > 0) {
        logger.info(report, 'storage sweep');
      }
    },
    logger,
    'storage sweep',
  );
}
