import { rungStopMarkKey, stopMarkKey } from '../../../contracts/object-keys.ts';
import type { ObjectStorage } from '../../../platform/storage/object-storage.ts';

/** Thrown out of `untilStopped` when the media was deleted or taken down while the work ran. */
export class MediaStoppedError extends Error {
  override readonly name = 'MediaStoppedError';
}

/** How often a running encode looks for the mark: a chunk encode runs for seconds to tens of seconds. */
const POLL_MS = 1000;

/** Whether the API marked the media stopped (deleted or taken down); a storage error says no. */
export async function isStopped(storage: ObjectStorage, mediaId: string): Promise<boolean> {
  return storage.head(stopMarkKey(mediaId)).then(
    (head) => head !== undefined,
    () => false,
  );
}

/** Whether `key` is certainly absent from storage (a storage error says no: the job is then retried). */
export async function isObjectGone(storage: ObjectStorage, key: string): Promise<boolean> {
  return storage.head(key).then(
    (head) => head === undefined,
    () => false,
  );
}

/** Those of `qualities` the API marked failed for this request (a storage error says not failed). */
export async function stoppedRungs(
  storage: ObjectStorage,
  ids: { mediaId: string; requestId: string },
  qualities: readonly string[],
): Promise<string[]> {
  const heads = await Promise.all(
    qualities.map((quality) =>
      storage.head(rungStopMarkKey(ids.mediaId, ids.requestId, quality)).catch(() => undefined),
    ),
  );
  return qualities.filter((_, i) => heads[i] !== undefined);
}

/**
 * Runs `work` with a signal that also aborts when the media is marked stopped (looked for every second),
 * so an encode of a deleted video ends within about a second instead of running to its end. Throws
 * MediaStoppedError when that is why it ended.
 */
export async function untilStopped<T>(
  storage: ObjectStorage,
  mediaId: string,
  signal: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const stop = new AbortController();
  const timer = setInterval(async () => {
    if (await isStopped(storage, mediaId)) stop.abort(new MediaStoppedError(`media ${mediaId} was stopped`));
  }, POLL_MS);
  try {
    return await work(signal ? AbortSignal.any([signal, stop.signal]) : stop.signal);
  } catch (error) {
    if (stop.signal.aborted && !signal?.aborted) throw stop.signal.reason;
    throw error;
  } finally {
    clearInterval(timer);
  }
}
