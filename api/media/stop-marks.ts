import { Value } from '@sinclair/typebox/value';
import { topics } from '../../contracts/events.ts';
import { LifecycleEvent } from '../../contracts/lifecycle.ts';
import { stopMarkKey } from '../../contracts/object-keys.ts';
import type { Queryable } from '../../db/client.ts';
import { queueForDeletion } from '../../db/queries/object-refs.ts';
import type { Bus, Subscription } from '../../platform/bus/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import type { ObjectStorage } from '../../platform/storage/object-storage.ts';

export const stopMarksConsumer = 'api.stop-marks';
/**
 * A mark outlives the chunk jobs a video had queued when it was retired, then the sweeper removes it; a job
 * that starts later still builds, and the API queues what it reports for deletion.
 */
const stopMarkSeconds = 3600;
const MARK = Buffer.from('stopped\n');

/**
 * Consumes the lifecycle (group `api.stop-marks`): a video deleted or taken down, by any path (owner,
 * operator, moderation, malware), gets its stop mark in storage, which the worker's chunk and assembly
 * jobs look for (worker/video/chunked/media-stopped.ts): the worker reads no database. At least once, and
 * writing the mark again is harmless.
 */
export function subscribeStopMarks(
  db: Queryable,
  storage: ObjectStorage,
  bus: Bus,
  logger: Logger,
): Promise<Subscription> {
  return bus.subscribe(
    topics.mediaLifecycle,
    stopMarksConsumer,
    async (message) => {
      if (!Value.Check(LifecycleEvent, message.payload))
        throw new Error(`lifecycle event ${message.id} breaks the contract`);
      const event = message.payload;
      if (event.type !== 'media.deleted' && event.type !== 'media.rejected') return;
      if (event.data.kind !== 'video') return;
      const key = stopMarkKey(event.data.mediaId);
      await storage.put(key, MARK, 'text/plain', MARK.length);
      await queueForDeletion(db, [key], stopMarkSeconds);
      logger.info({ mediaId: event.data.mediaId, type: event.type }, 'video marked stopped');
    },
    { concurrency: 4 },
  );
}
