import { setTimeout as delay } from 'node:timers/promises';
import type { ObjectStorage } from '../../../platform/storage/object-storage.ts';
import type { VideoPlan } from '../plan.ts';
import { isStopped } from './media-stopped.ts';
import { chunkSegmentKey } from './segment-key.ts';

// What goes first on a machine while a chunked video is built: the lowest rung's first chunk, which a
// viewer is waiting for; then its later chunks; then everything nobody watches yet.

/**
 * The first chunk's length (VIDEO_CHUNK_SECONDS when that is shorter): a player starts after one
 * segment, so the shorter the first, the sooner it plays; the next chunks are encoded while it plays.
 * The keyframe interval of the encoded rungs, so it is still a whole GOP.
 */
export const FIRST_CHUNK_SECONDS = 2;
/** `nice` of the lowest rung's later chunks, and of the work nobody watches yet (other rungs, stills). */
export const LEAD_NICENESS = 5;
export const BACKGROUND_NICENESS = 10;
/** How long the coordinator leaves the cores to the first chunk before it downloads the original. */
const FIRST_CHUNK_WAIT_MS = 20_000;
const FIRST_CHUNK_POLL_MS = 200;

/**
 * Waits (a while at most) until the lowest rung's first chunk is stored: the download of a long original
 * and its hash would take disk and CPU from that chunk's encode on the same machine, and nobody waits
 * for them yet.
 */
export async function firstChunkStored(
  deps: { storage: ObjectStorage; signal?: AbortSignal | undefined },
  ids: { mediaId: string; requestId: string },
  plan: VideoPlan,
): Promise<void> {
  const lowest = plan.renditions[0];
  if (!lowest) return;
  const key = chunkSegmentKey(ids, lowest.quality, 0);
  const deadline = Date.now() + FIRST_CHUNK_WAIT_MS;
  // Storage that cannot answer ends the wait: the download would find out for itself. So does a stop
  // mark: that chunk will never come.
  const missing = async () => {
    const [head, stopped] = await Promise.all([
      deps.storage.head(key).catch(() => null),
      isStopped(deps.storage, ids.mediaId),
    ]);
    return head === undefined && !stopped;
  };
  while (Date.now() < deadline && (await missing())) {
    await delay(FIRST_CHUNK_POLL_MS, undefined, { signal: deps.signal });
  }
}
