import { and, eq, isNull } from 'drizzle-orm';
import type { OptimizeResult } from '../../../contracts/events.ts';
import type { Database } from '../../../db/client.ts';
import { queueForDeletion } from '../../../db/queries/object-refs.ts';
import { media, videoOutput, videoPlan } from '../../../db/schema.ts';
import { applyPartialResult } from '../apply-partial.ts';
import { settleRung } from './chunk-state.ts';

/**
 * An output of a chunked video other than its chunks: a still, or a rung's assembled MP4, built or failed.
 * It is recorded for the final result (once per quality), shown at once through the partial-result path
 * while the media processes (a variant, the display pointer, `media.variant.ready`), and a rung's outcome
 * moves the rung from a non-final state only, so a repeated outcome changes nothing.
 */
export async function applyChunkedOutput(db: Database, result: OptimizeResult): Promise<'applied' | 'stale'> {
  const ids = { mediaId: result.mediaId, requestId: result.requestId };
  const [plan] = await db
    .select({ mediaId: videoPlan.mediaId })
    .from(videoPlan)
    .where(and(eq(videoPlan.mediaId, ids.mediaId), eq(videoPlan.requestId, ids.requestId)));
  if (!plan) return 'stale';
  const [row] = await db.select({ status: media.status }).from(media).where(eq(media.id, ids.mediaId));
  if (!row || row.status === 'deleted' || row.status === 'rejected') {
    // Built after a delete or a takedown (before the job saw its stop mark): nobody will read it.
    await queueForDeletion(
      db,
      result.processed.map((output) => output.key),
    );
    return 'stale';
  }
  const failed = result.failedOutputs ?? [];
  const rows = [
    ...result.processed.map((output) => ({ ...ids, quality: output.quality, output })),
    ...failed.map((f) => ({ ...ids, quality: f.quality, failure: `${f.code}: ${f.detail}` })),
  ];
  if (rows.length > 0) await db.insert(videoOutput).values(rows).onConflictDoNothing();
  // A coordinator that planned before its download learns the hash later, with its stills.
  if (result.sha256)
    await db
      .update(videoPlan)
      .set({ sha256: result.sha256 })
      .where(
        and(
          eq(videoPlan.mediaId, ids.mediaId),
          eq(videoPlan.requestId, ids.requestId),
          isNull(videoPlan.sha256),
        ),
      );
  if (result.processed.length > 0) await applyPartialResult(db, { ...result, stage: 'partial' });
  const moves = [
    ...result.processed.map((output) => ({ quality: output.quality, state: 'assembled' as const })),
    ...failed.map((f) => ({ quality: f.quality, state: 'failed' as const, detail: f.detail })),
  ];
  for (const { quality, ...move } of moves) await settleRung(db, ids, quality, move);
  return 'applied';
}
