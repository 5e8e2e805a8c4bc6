import { eq } from 'drizzle-orm';
import type { KafkaPosition, OptimizeResult } from '../../contracts/events.ts';
import type { Database } from '../../db/client.ts';
import { announcedVariants } from '../../db/queries/lifecycle.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { queueForDeletion } from '../../db/queries/object-refs.ts';
import { copyVariants, lockVerifiedTwin, type Twin } from '../../db/queries/twins.ts';
import { media, mediaVariant, processedEvent } from '../../db/schema.ts';

export const resultsConsumer = 'api.results';
/** Replaced objects stay readable this long, so views handed out just before the swap keep working. */
const replacedObjectGraceSeconds = 3600;

const displayOrder = ['high', 'medium', 'low'];
const thumbnailOrder = ['thumbnail', 'poster'];

/**
 * Applies one optimize result in one transaction: dedupe by event id, swap the variant set and the
 * display pointers atomically, and queue replaced objects for deletion. A result for a media that was
 * deleted or rejected meanwhile only queues its objects for deletion.
 *
 * When the worker's hash shows the owner already has these bytes in another ready media, the media is
 * linked to that twin's objects instead, and its own original and fresh derivatives are queued for
 * deletion: nothing references them any more.
 */
export async function applyOptimizeResult(
  db: Database,
  eventId: string,
  result: OptimizeResult,
  resultPosition?: KafkaPosition,
): Promise<'applied' | 'duplicate' | 'stale'> {
  // How the worker ran it, kept on the transition for the ops trace view.
  const report = result.execution ? { execution: result.execution, resultPosition } : {};
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(processedEvent)
      .values({ consumer: resultsConsumer, eventId })
      .onConflictDoNothing()
      .returning({ eventId: processedEvent.eventId });
    if (inserted.length === 0) return 'duplicate';

    const newKeys = result.processed.map((p) => p.key);
    if (!result.success) {
      const moved = await transitionMedia(tx, {
        mediaId: result.mediaId,
        from: 'processing',
        to: 'failed',
        actor: 'worker',
        detail: { requestId: result.requestId, ...result.error, ...report },
        patch: {
          failureCode: result.error?.code ?? 'processing_failed',
          failureDetail: result.error?.detail ?? '',
        },
      });
      await queueForDeletion(tx, newKeys);
      return moved ? 'applied' : 'stale';
    }

    // The twin is locked before this media's own row, the order every copier takes its locks in. The
    // owner and original are read in the twin's query; the original again only when linking to a twin.
    const twin = result.sha256
      ? await lockVerifiedTwin(tx, {
          ownerId: { ownerOf: result.mediaId },
          sha256: result.sha256,
          not: { mediaId: result.mediaId },
        })
      : undefined;
    const [own] = twin
      ? await tx.select({ objectKey: media.objectKey }).from(media).where(eq(media.id, result.mediaId))
      : [];
    const moved = await transitionMedia(tx, {
      mediaId: result.mediaId,
      from: ['processing', 'ready', 'failed'],
      to: 'ready',
      variants: announcedVariants(
        twin ? twin.variants : result.processed.map((p) => ({ ...p, bytes: p.size })),
      ),
      actor: 'worker',
      detail: {
        requestId: result.requestId,
        variants: result.processed.length,
        ...(twin ? { deduplicatedFrom: twin.row.id } : {}),
        ...(result.failedOutputs?.length ? { failedOutputs: result.failedOutputs } : {}),
        ...report,
      },
      patch: readyPatch(result, twin),
    });
    if (!moved || (twin && !own)) {
      await queueForDeletion(tx, newKeys);
      return 'stale';
    }
    // Deleted under the row lock the transition took, so a concurrent result for this media cannot slip its
    // variants in between and escape the deletion queue.
    const old = await tx
      .delete(mediaVariant)
      .where(eq(mediaVariant.mediaId, result.mediaId))
      .returning({ key: mediaVariant.objectKey });
    let current = newKeys;
    if (twin && own) {
      await copyVariants(tx, result.mediaId, twin);
      current = twin.variants.map((v) => v.objectKey);
      await queueForDeletion(tx, [own.objectKey, ...newKeys]);
    } else if (result.processed.length > 0) {
      await tx.insert(mediaVariant).values(
        result.processed.map((p) => ({
          mediaId: result.mediaId,
          quality: p.quality,
          format: p.format,
          objectKey: p.key,
          width: p.width,
          height: p.height,
          bytes: p.size,
        })),
      );
    }
    await queueForDeletion(
      tx,
      old.map((o) => o.key).filter((k) => !current.includes(k)),
      replacedObjectGraceSeconds,
    );
    return 'applied';
  });
}

/** A linked media shows its twin's derivatives; otherwise the worker's fresh ones. */
function readyPatch(result: OptimizeResult, twin: Twin | undefined) {
  const shown = twin
    ? {
        objectKey: twin.row.objectKey,
        placeholder: twin.row.placeholder,
        displayKey: twin.row.displayKey,
        thumbnailKey: twin.row.thumbnailKey,
      }
    : {
        placeholder: result.placeholder ?? null,
        displayKey: pick(result, displayOrder),
        thumbnailKey: pick(result, thumbnailOrder),
      };
  const failed = twin ? [] : (result.failedOutputs ?? []);
  return {
    sha256: result.sha256,
    metadata: result.metadata,
    // Ready, yet some outputs are missing: the owner is told which and why.
    failureCode: failed.length > 0 ? 'outputs_failed' : null,
    failureDetail:
      failed.length > 0 ? failed.map((f) => `${f.quality}: ${f.code} (${f.detail})`).join('; ') : null,
    ...shown,
  };
}

function pick(result: OptimizeResult, order: string[]): string | null {
  for (const quality of order) {
    const hit = result.processed.find((p) => p.quality === quality);
    if (hit) return hit.key;
  }
  return null;
}
