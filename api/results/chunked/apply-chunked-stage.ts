import type { OptimizeResult } from '../../../contracts/events.ts';
import type { Database } from '../../../db/client.ts';
import type { ObjectStorage } from '../../../platform/storage/object-storage.ts';
import { applyChunkOutcome } from './apply-chunk.ts';
import { applyChunkedOutput } from './apply-output.ts';
import { recordChunkPlan } from './record-plan.ts';
import { type Settled, settleChunkedVideo } from './settle.ts';

export const chunkedStages: ReadonlySet<string> = new Set(['chunk-plan', 'chunk', 'chunked-output']);

/**
 * A result of a video encoded in chunk jobs. After a chunk or an output the media may be complete: that
 * is checked every time, not only when this event changed something, so a crash between applying the
 * last event and settling is repaired by its redelivery.
 */
export async function applyChunkedStage(
  db: Database,
  storage: ObjectStorage,
  result: OptimizeResult,
): Promise<{ outcome: 'applied' | 'stale'; settled?: Settled }> {
  if (result.stage === 'chunk-plan') return { outcome: await recordChunkPlan(db, result) };
  const worker = result.execution && `${result.execution.worker.hostname}:${result.execution.worker.pid}`;
  const outcome =
    result.stage === 'chunk'
      ? await applyChunkOutcome(db, storage, result, worker)
      : await applyChunkedOutput(db, result);
  const settled = await settleChunkedVideo(db, storage, {
    mediaId: result.mediaId,
    requestId: result.requestId,
  });
  return { outcome, settled };
}
