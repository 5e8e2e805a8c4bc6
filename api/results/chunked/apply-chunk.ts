import { and, eq } from 'drizzle-orm';
import { type OptimizeResult, topics, type VideoAssembleJob } from '../../../contracts/events.ts';
import { hlsObjectKey, rungStopMarkKey } from '../../../contracts/object-keys.ts';
import type { Database, Queryable } from '../../../db/client.ts';
import { queueForDeletion } from '../../../db/queries/object-refs.ts';
import { enqueueEvents } from '../../../db/queries/outbox.ts';
import { media, videoChunk, videoRung } from '../../../db/schema.ts';
import type { ObjectStorage } from '../../../platform/storage/object-storage.ts';
import { applyPartialResult } from '../apply-partial.ts';
import {
  type ChunkedVideo,
  isComplete,
  loadChunkedVideo,
  playablePrefix,
  settleRung,
} from './chunk-state.ts';
import { rebuildable } from './record-plan.ts';
import { writePlaylists } from './write-playlists.ts';

const STOP_MARK = Buffer.from('failed\n');

/** Chunk progress stops short of 1: a rung is done when its MP4 is assembled. */
const encodedShare = 0.9;

/**
 * One chunk job's outcome, applied once: each (chunk, rung) is recorded by its primary key, so a
 * redelivered or duplicated outcome adds nothing; a failed chunk fails its rungs. Under the plan's lock it
 * rewrites the playlists the chunk changed, and a rung whose chunks are now all done gets its assembly job
 * through the outbox in the same transaction (exactly once, on the move to `assembling`). The HLS master
 * then becomes (or stays) a variant of the media, through the partial-result path, so the view shows it
 * while the media is still processing.
 */
export async function applyChunkOutcome(
  db: Database,
  storage: ObjectStorage,
  result: OptimizeResult,
  worker: string | undefined,
): Promise<'applied' | 'stale'> {
  const outcome = result.chunk;
  if (!outcome) throw new Error(`chunk result for ${result.mediaId} has no chunk`);
  const ids = { mediaId: result.mediaId, requestId: result.requestId };
  const applied = await db.transaction(async (tx) => {
    const [row] = await tx
      .select({ status: media.status, objectKey: media.objectKey })
      .from(media)
      .where(eq(media.id, ids.mediaId));
    if (!row || !(rebuildable as readonly string[]).includes(row.status)) {
      // Built after a delete or a takedown (before the job saw its stop mark): nobody will read it.
      await queueForDeletion(
        tx,
        outcome.done.map((done) => done.key),
      );
      return undefined;
    }
    const locked = await loadChunkedVideo(tx, ids, true);
    if (!locked) return undefined;
    const rows = [
      ...outcome.done.map((done) => ({
        ...ids,
        quality: done.quality,
        chunkIndex: outcome.index,
        state: 'done' as const,
        objectKey: done.key,
        bytes: done.size,
        worker,
        encoded: outcome.encoded,
      })),
      ...outcome.failed.map((failed) => ({
        ...ids,
        quality: failed.quality,
        chunkIndex: outcome.index,
        state: 'failed' as const,
        worker,
        encoded: false,
        detail: failed.detail,
      })),
    ];
    if (rows.length > 0) await tx.insert(videoChunk).values(rows).onConflictDoNothing();
    if (outcome.failed.length > 0) await failRungs(tx, ids, outcome.failed);
    const video = (await loadChunkedVideo(tx, ids, false)) as ChunkedVideo;
    await startAssemblies(tx, video, row.objectKey);
    const touched = [...outcome.done, ...outcome.failed].map((r) => r.quality);
    const master = await writePlaylists(storage, video, touched);
    return { video, master };
  });
  if (!applied) return 'stale';
  // The failed rungs' remaining chunk jobs look for these and leave those rungs out.
  await Promise.all(
    outcome.failed.map(({ quality }) =>
      storage.put(
        rungStopMarkKey(ids.mediaId, ids.requestId, quality),
        STOP_MARK,
        'text/plain',
        STOP_MARK.length,
      ),
    ),
  );
  const { video, master } = applied;
  const share = (quality: string) =>
    video.chunks.filter((chunk) => chunk.quality === quality && chunk.state === 'done').length /
    video.plan.chunkCount;
  const progress = Object.fromEntries(
    video.rungs
      .filter((rung) => rung.state === 'chunks')
      .map((rung) => [rung.quality, Math.round(share(rung.quality) * encodedShare * 100) / 100]),
  );
  await applyPartialResult(db, {
    ...result,
    stage: 'partial',
    processed: master
      ? [
          {
            quality: 'hls',
            format: 'm3u8',
            key: master.key,
            url: '',
            width: null,
            height: null,
            size: master.size,
          },
        ]
      : [],
    progress,
  });
  return 'applied';
}

async function failRungs(
  tx: Queryable,
  ids: { mediaId: string; requestId: string },
  failed: { quality: string; detail: string }[],
): Promise<void> {
  for (const { quality, detail } of failed) await settleRung(tx, ids, quality, { state: 'failed', detail });
}

/** Every rung whose chunks are all done moves to `assembling`, and its job is queued with the move. */
async function startAssemblies(tx: Queryable, video: ChunkedVideo, objectKey: string): Promise<void> {
  const { mediaId, requestId } = video.plan;
  for (const rung of video.rungs) {
    if (rung.state !== 'chunks' || !isComplete(video, rung.quality)) continue;
    const moved = await tx
      .update(videoRung)
      .set({ state: 'assembling' })
      .where(
        and(
          eq(videoRung.mediaId, mediaId),
          eq(videoRung.requestId, requestId),
          eq(videoRung.quality, rung.quality),
          eq(videoRung.state, 'chunks'),
        ),
      )
      .returning({ quality: videoRung.quality });
    if (moved.length === 0) continue;
    rung.state = 'assembling';
    const job: VideoAssembleJob = {
      mediaId,
      requestId,
      objectKey,
      rendition: rung.rendition,
      chunkKeys: playablePrefix(video, rung.quality).map(
        (chunk) =>
          chunk.objectKey ?? hlsObjectKey(mediaId, requestId, `${rung.quality}/${chunk.chunkIndex}.ts`),
      ),
      withAudio: video.plan.withAudio,
    };
    await enqueueEvents(tx, [
      { aggregateId: mediaId, topic: topics.videoAssemble, eventType: 'media.video.assemble', payload: job },
    ]);
  }
}
