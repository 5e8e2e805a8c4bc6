import { eq } from 'drizzle-orm';
import type { OptimizeResult } from '../../../contracts/events.ts';
import type { Database } from '../../../db/client.ts';
import { mediaVariant } from '../../../db/schema.ts';
import { applyOptimizeResult } from '../apply-result.ts';
import { loadChunkedVideo } from './chunk-state.ts';

export interface Settled {
  outcome: 'applied' | 'duplicate' | 'stale' | 'pending';
  /** The final result applied, for the funnel metrics. */
  result?: OptimizeResult;
}

/**
 * Once every rung is assembled or failed, the media settles through the final-result path like a video
 * built whole: `ready` with every output this request stored (stills, renditions, HLS) and the failed rungs
 * reported, or `failed` when no rung could be built. Its event id is the request's own id, which no other
 * result carries, so settling again (a redelivered last event) is a duplicate.
 */
export async function settleChunkedVideo(
  db: Database,
  ids: { mediaId: string; requestId: string },
): Promise<Settled> {
  const video = await loadChunkedVideo(db, ids, false);
  if (!video || video.rungs.some((rung) => rung.state === 'chunks' || rung.state === 'assembling'))
    return { outcome: 'pending' };
  const prefix = `derived/${ids.mediaId}/${ids.requestId}/`;
  const variants = await db.select().from(mediaVariant).where(eq(mediaVariant.mediaId, ids.mediaId));
  const failed = video.rungs.filter((rung) => rung.state === 'failed');
  const failedOutputs = failed.map((rung) => ({
    quality: rung.quality,
    code: 'rendition_failed',
    detail: (rung.detail ?? 'its chunks could not be encoded').slice(0, 500),
  }));
  const base = { ...ids, stage: 'final' as const, sha256: video.plan.sha256, metadata: video.plan.metadata };
  const result: OptimizeResult =
    failed.length < video.rungs.length
      ? {
          ...base,
          success: true,
          processed: variants
            .filter((variant) => variant.objectKey.startsWith(prefix))
            .map((variant) => ({
              quality: variant.quality,
              format: variant.format,
              key: variant.objectKey,
              url: '',
              width: variant.width,
              height: variant.height,
              size: variant.bytes,
            })),
          ...(failedOutputs.length > 0 ? { failedOutputs } : {}),
        }
      : {
          ...base,
          success: false,
          processed: [],
          error: {
            code: 'rendition_failed',
            detail: failedOutputs
              .map((f) => `${f.quality}: ${f.detail}`)
              .join('; ')
              .slice(0, 1000),
          },
        };
  return { outcome: await applyOptimizeResult(db, ids.requestId, result), result };
}
