import { eq, sql } from 'drizzle-orm';
import type { OptimizeResult } from '../../contracts/events.ts';
import type { Database, Queryable } from '../../db/client.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { mediaVariant, processedEvent, storageGarbage } from '../../db/schema.ts';

export const resultsConsumer = 'api.results';
/** Replaced objects stay readable this long, so views handed out just before the swap keep working. */
const replacedObjectGraceSeconds = 3600;

const displayOrder = ['high', 'medium', 'low'];
const thumbnailOrder = ['thumbnail', 'poster'];

/**
 * Applies one optimize result in one transaction: dedupe by event id, swap the variant set and the
 * display pointers atomically, and queue replaced objects for deletion. A result for a media that was
 * deleted or rejected meanwhile only queues its objects for deletion.
 */
export async function applyOptimizeResult(
  db: Database,
  eventId: string,
  result: OptimizeResult,
): Promise<'applied' | 'duplicate' | 'stale'> {
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
        detail: { requestId: result.requestId, ...result.error },
        patch: {
          failureCode: result.error?.code ?? 'processing_failed',
          failureDetail: result.error?.detail ?? '',
        },
      });
      await discard(tx, newKeys, 0);
      return moved ? 'applied' : 'stale';
    }

    const old = await tx
      .select({ key: mediaVariant.objectKey })
      .from(mediaVariant)
      .where(eq(mediaVariant.mediaId, result.mediaId));
    const moved = await transitionMedia(tx, {
      mediaId: result.mediaId,
      from: ['processing', 'ready', 'failed'],
      to: 'ready',
      actor: 'worker',
      detail: { requestId: result.requestId, variants: result.processed.length },
      patch: {
        sha256: result.sha256,
        metadata: result.metadata,
        placeholder: result.placeholder ?? null,
        displayKey: pick(result, displayOrder),
        thumbnailKey: pick(result, thumbnailOrder),
        failureCode: null,
        failureDetail: null,
      },
    });
    if (!moved) {
      await discard(tx, newKeys, 0);
      return 'stale';
    }
    await tx.delete(mediaVariant).where(eq(mediaVariant.mediaId, result.mediaId));
    if (result.processed.length > 0) {
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
    await discard(
      tx,
      old.map((o) => o.key).filter((k) => !newKeys.includes(k)),
      replacedObjectGraceSeconds,
    );
    return 'applied';
  });
}

function pick(result: OptimizeResult, order: string[]): string | null {
  for (const quality of order) {
    const hit = result.processed.find((p) => p.quality === quality);
    if (hit) return hit.key;
  }
  return null;
}

async function discard(tx: Queryable, keys: string[], graceSeconds: number): Promise<void> {
  if (keys.length === 0) return;
  await tx
    .insert(storageGarbage)
    .values(
      keys.map((objectKey) => ({
        objectKey,
        deleteAfter: sql`now() + make_interval(secs => ${graceSeconds})`,
      })),
    )
    .onConflictDoNothing();
}
