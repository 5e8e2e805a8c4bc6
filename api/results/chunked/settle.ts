import { and, eq } from 'drizzle-orm';
import type { OptimizeResult, ProcessedObject } from '../../../contracts/events.ts';
import { hlsObjectKey } from '../../../contracts/object-keys.ts';
import type { Database } from '../../../db/client.ts';
import { videoOutput } from '../../../db/schema.ts';
import type { ObjectStorage } from '../../../platform/storage/object-storage.ts';
import { applyOptimizeResult } from '../apply-result.ts';
import { loadChunkedVideo } from './chunk-state.ts';

export interface Settled {
  outcome: 'applied' | 'duplicate' | 'stale' | 'pending';
  /** The final result applied, for the funnel metrics. */
  result?: OptimizeResult;
}

/**
 * Once every rung is assembled or failed and every still is reported, the media settles through the
 * final-result path like a video built whole: `ready` with every output this request stored (stills,
 * renditions, HLS) and the failed ones reported, or `failed` when no rung could be built. Its event id is
 * the request's own id, which no other result carries, so settling again (a redelivered last event) is a
 * duplicate.
 */
export async function settleChunkedVideo(
  db: Database,
  storage: ObjectStorage,
  ids: { mediaId: string; requestId: string },
): Promise<Settled> {
  const video = await loadChunkedVideo(db, ids, false);
  if (!video || video.rungs.some((rung) => rung.state === 'chunks' || rung.state === 'assembling'))
    return { outcome: 'pending' };
  const outputs = await db
    .select()
    .from(videoOutput)
    .where(and(eq(videoOutput.mediaId, ids.mediaId), eq(videoOutput.requestId, ids.requestId)));
  const rungNames = new Set(video.rungs.map((rung) => rung.quality));
  const stills = outputs.filter((output) => !rungNames.has(output.quality));
  if (stills.length < video.plan.stillCount) return { outcome: 'pending' };

  const failedRungs = video.rungs.filter((rung) => rung.state === 'failed');
  const failedOutputs = [
    ...failedRungs.map((rung) => ({
      quality: rung.quality,
      code: 'rendition_failed',
      detail: (rung.detail ?? 'its chunks could not be encoded').slice(0, 500),
    })),
    ...stills
      .filter((still) => still.failure !== null)
      .map((still) => ({ quality: still.quality, code: 'output_failed', detail: still.failure ?? '' })),
  ];
  const base = { ...ids, stage: 'final' as const, sha256: video.plan.sha256, metadata: video.plan.metadata };
  let result: OptimizeResult;
  if (failedRungs.length < video.rungs.length) {
    const built = outputs.flatMap((output) => (output.output ? [output.output] : []));
    const master = await hlsMaster(storage, ids);
    result = {
      ...base,
      success: true,
      processed: master ? [...built, master] : built,
      ...(failedOutputs.length > 0 ? { failedOutputs } : {}),
    };
  } else {
    const detail = failedOutputs.map((f) => `${f.quality}: ${f.detail}`).join('; ');
    result = {
      ...base,
      success: false,
      processed: [],
      error: { code: 'rendition_failed', detail: detail.slice(0, 1000) },
    };
  }
  return { outcome: await applyOptimizeResult(db, ids.requestId, result), result };
}

async function hlsMaster(
  storage: ObjectStorage,
  ids: { mediaId: string; requestId: string },
): Promise<ProcessedObject | undefined> {
  const key = hlsObjectKey(ids.mediaId, ids.requestId, 'master.m3u8');
  const head = await storage.head(key);
  return head && { quality: 'hls', format: 'm3u8', key, url: '', width: null, height: null, size: head.size };
}
