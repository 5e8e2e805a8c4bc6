import { and, eq, inArray } from 'drizzle-orm';
import type { OptimizeResult } from '../../../contracts/events.ts';
import type { Database } from '../../../db/client.ts';
import { media, videoPlan, videoRung } from '../../../db/schema.ts';
import { applyPartialResult } from '../apply-partial.ts';

/** A first build (`processing`), or a reprocess of a media already settled (an operator's replay). */
export const rebuildable = ['processing', 'ready', 'failed'] as const;

/**
 * A coordinator's plan: how many chunks make each rung, recorded before any chunk job is out. A
 * redelivered coordinator reports the same plan, which changes nothing. Every rung starts at progress 0
 * (shown while the media processes).
 */
export async function recordChunkPlan(db: Database, result: OptimizeResult): Promise<'applied' | 'stale'> {
  const plan = result.chunkPlan;
  if (!plan) throw new Error(`chunk-plan result for ${result.mediaId} has no plan`);
  const ids = { mediaId: result.mediaId, requestId: result.requestId };
  const recorded = await db.transaction(async (tx) => {
    const [row] = await tx
      .select({ id: media.id })
      .from(media)
      .where(and(eq(media.id, ids.mediaId), inArray(media.status, rebuildable)))
      .for('update');
    if (!row) return false;
    await tx
      .insert(videoPlan)
      .values({
        ...ids,
        chunkCount: plan.chunkSeconds.length,
        chunkSeconds: plan.chunkSeconds,
        sha256: result.sha256,
        metadata: result.metadata,
        withAudio: plan.withAudio,
        stillCount: plan.stillCount,
      })
      .onConflictDoNothing();
    await tx
      .insert(videoRung)
      .values(
        plan.rungs.map((rung, ordinal) => ({
          ...ids,
          quality: rung.rendition.quality,
          ordinal,
          bandwidth: rung.bandwidth,
          rendition: rung.rendition,
        })),
      )
      .onConflictDoNothing();
    return true;
  });
  if (!recorded) return 'stale';
  const progress = Object.fromEntries(plan.rungs.map((rung) => [rung.rendition.quality, 0]));
  return applyPartialResult(db, { ...result, stage: 'progress', processed: [], progress });
}
