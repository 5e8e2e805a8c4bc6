import { and, eq, inArray } from 'drizzle-orm';
import type { Queryable } from '../../../db/client.ts';
import { videoChunk, videoPlan, videoRung } from '../../../db/schema.ts';

export type PlanRow = typeof videoPlan.$inferSelect;
export type RungRow = typeof videoRung.$inferSelect;
export type ChunkRow = typeof videoChunk.$inferSelect;

export interface ChunkedVideo {
  plan: PlanRow;
  /** Smallest first. */
  rungs: RungRow[];
  chunks: ChunkRow[];
}

/**
 * A chunked video's plan, rungs and recorded chunks. `lock` takes the plan row's lock first: results of one
 * media are applied one at a time whatever the bus, so playlists are never written from a stale view.
 */
export async function loadChunkedVideo(
  tx: Queryable,
  ids: { mediaId: string; requestId: string },
  lock: boolean,
): Promise<ChunkedVideo | undefined> {
  const where = and(eq(videoPlan.mediaId, ids.mediaId), eq(videoPlan.requestId, ids.requestId));
  const query = tx.select().from(videoPlan).where(where);
  const [plan] = lock ? await query.for('update') : await query;
  if (!plan) return undefined;
  const rungs = await tx
    .select()
    .from(videoRung)
    .where(and(eq(videoRung.mediaId, ids.mediaId), eq(videoRung.requestId, ids.requestId)))
    .orderBy(videoRung.ordinal);
  const chunks = await tx
    .select()
    .from(videoChunk)
    .where(and(eq(videoChunk.mediaId, ids.mediaId), eq(videoChunk.requestId, ids.requestId)));
  return { plan, rungs, chunks };
}

/** The rung's finished chunks from the first, up to the first one missing: what a player may play. */
export function playablePrefix(video: ChunkedVideo, quality: string): ChunkRow[] {
  const done = new Map(
    video.chunks
      .filter((chunk) => chunk.quality === quality && chunk.state === 'done')
      .map((chunk) => [chunk.chunkIndex, chunk]),
  );
  const prefix: ChunkRow[] = [];
  for (let index = 0; done.has(index); index++) prefix.push(done.get(index) as ChunkRow);
  return prefix;
}

export function isComplete(video: ChunkedVideo, quality: string): boolean {
  return playablePrefix(video, quality).length === video.plan.chunkCount;
}

/**
 * Moves a rung that is still building (its chunks, or its MP4's assembly) to where a result says it ended; a rung
 * already settled stays as it is, so a repeated or late result changes nothing.
 */
export async function settleRung(
  tx: Queryable,
  ids: { mediaId: string; requestId: string },
  quality: string,
  move: { state: 'assembled' } | { state: 'failed'; detail: string },
): Promise<void> {
  await tx
    .update(videoRung)
    .set(move)
    .where(
      and(
        eq(videoRung.mediaId, ids.mediaId),
        eq(videoRung.requestId, ids.requestId),
        eq(videoRung.quality, quality),
        inArray(videoRung.state, ['chunks', 'assembling']),
      ),
    );
}
