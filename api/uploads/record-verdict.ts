import { eq } from 'drizzle-orm';
import { type OptimizeRequest, topics } from '../../contracts/events.ts';
import type { Queryable } from '../../db/client.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { queueForDeletion } from '../../db/queries/object-refs.ts';
import { enqueueEvents } from '../../db/queries/outbox.ts';
import { media } from '../../db/schema.ts';
import type { ApiContext } from '../context.ts';
import type { GateVerdict } from '../gate/run-gate.ts';
import { edgeUrl } from '../media/urls.ts';
import type { MediaRow } from './complete-upload.ts';
import { type Claim, closeClaim } from './session-state.ts';

/** Recorded, with the media as the verdict left it (undefined when it had moved on meanwhile, say deleted). */
export interface RecordedVerdict {
  row: MediaRow | undefined;
}

/**
 * Records the gate's verdict in one transaction: the session `completing → completed`, fenced by the
 * claim, and the media out of `awaiting_upload` — to `processing` with its one optimize request, or to
 * `rejected` with its object queued for deletion. Undefined, with nothing recorded, when the claim was taken
 * over meanwhile. Locks in the order every writer of a gallery uses: gallery, session, media.
 */
export async function recordVerdict(
  ctx: ApiContext,
  row: MediaRow,
  claim: Claim,
  verdict: GateVerdict,
): Promise<RecordedVerdict | undefined> {
  return ctx.db.transaction(async (tx): Promise<RecordedVerdict | undefined> => {
    await lockGallery(tx, row.ownerId);
    if (!(await closeClaim(tx, claim, 'completed'))) {
      await requeueIfRetired(tx, row);
      return undefined;
    }
    if (!verdict.ok) {
      const rejected = await transitionMedia(tx, {
        mediaId: row.id,
        from: 'awaiting_upload',
        to: 'rejected',
        // The gate asks the moderation vendor too: its refusal is moderation's, not the file's.
        by: verdict.code === 'moderation_rejected' ? 'moderation' : 'gate',
        actor: 'gate',
        detail: { code: verdict.code, detail: verdict.detail },
        patch: { failureCode: verdict.code, failureDetail: verdict.detail },
      });
      await queueForDeletion(tx, [row.objectKey]);
      await renumberGallery(tx, row.ownerId);
      return { row: rejected };
    }
    const moved = await transitionMedia(tx, {
      mediaId: row.id,
      from: 'awaiting_upload',
      to: 'processing',
      actor: 'gate',
      patch: {
        probe: { ...verdict.probe },
        moderationStatus: verdict.moderation.status,
        moderationJobId: verdict.moderation.jobId,
      },
    });
    if (moved) {
      const request: OptimizeRequest = {
        mediaId: row.id,
        bucket: row.bucket,
        objectKey: row.objectKey,
        kind: row.kind,
        contentType: row.contentType,
        canonicalUrl: edgeUrl(ctx.config, row.objectKey),
        probe: { ...verdict.probe },
      };
      await enqueueEvents(tx, [
        {
          aggregateId: row.id,
          topic: topics.optimizeRequest,
          eventType: 'media.optimize.request',
          payload: request,
        },
      ]);
    }
    return { row: moved };
  });
}

/**
 * Whoever took a stale claim over and retired the media queued its object; this completion may have
 * assembled it only afterwards, so it is queued again (the sweeper keeps anything still referenced).
 */
async function requeueIfRetired(tx: Queryable, row: MediaRow): Promise<void> {
  const [now] = await tx.select({ status: media.status }).from(media).where(eq(media.id, row.id));
  if (now?.status === 'deleted' || now?.status === 'rejected') await queueForDeletion(tx, [row.objectKey]);
}
