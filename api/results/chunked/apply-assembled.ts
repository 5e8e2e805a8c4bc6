import { and, eq, inArray } from 'drizzle-orm';
import type { OptimizeResult } from '../../../contracts/events.ts';
import type { Database } from '../../../db/client.ts';
import { videoRung } from '../../../db/schema.ts';
import { applyPartialResult } from '../apply-partial.ts';

/**
 * A rung's assembly: its MP4 takes the partial-result path every rendition takes (a variant of the
 * processing media, the display pointer, `media.variant.ready`), and the rung is marked assembled; or
 * the assembly gave up, and the rung is failed. Both moves are from a non-final state only, so a
 * repeated outcome changes nothing.
 */
export async function applyAssembled(db: Database, result: OptimizeResult): Promise<'applied' | 'stale'> {
  const failure = result.failedOutputs?.[0];
  const quality = failure?.quality ?? result.processed[0]?.quality;
  if (!quality) throw new Error(`assembled result for ${result.mediaId} names no rendition`);
  if (!failure && (await applyPartialResult(db, { ...result, stage: 'partial' })) === 'stale') return 'stale';
  const moved = await db
    .update(videoRung)
    .set(failure ? { state: 'failed', detail: failure.detail } : { state: 'assembled' })
    .where(
      and(
        eq(videoRung.mediaId, result.mediaId),
        eq(videoRung.requestId, result.requestId),
        eq(videoRung.quality, quality),
        inArray(videoRung.state, ['chunks', 'assembling']),
      ),
    )
    .returning({ quality: videoRung.quality });
  return moved.length > 0 ? 'applied' : 'stale';
}
