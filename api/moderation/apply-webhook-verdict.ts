import { eq } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import type { ModerationWebhookBody } from '../../contracts/webhooks.ts';
import { media, webhookEvent } from '../../db/schema.ts';
import type { ApiContext } from '../context.ts';
import { retireMedia } from '../media/delete-media.ts';

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

/**
 * Applies a vendor's verdict once per vendor event id. `rejected` takes the media down wherever it is in
 * its life (processing, ready, failed): status `rejected`, objects queued for ref-count-aware deletion,
 * and the edge answers 410 from then on. `allowed` settles a pending judgement.
 */
export async function applyWebhookVerdict(
  ctx: ApiContext,
  body: ModerationWebhookBody,
): Promise<WebhookOutcome> {
  return ctx.db.transaction(async (tx) => {
    const fresh = await tx
      .insert(webhookEvent)
      .values({ vendor: body.vendor, eventId: body.eventId })
      .onConflictDoNothing()
      .returning({ eventId: webhookEvent.eventId });
    if (fresh.length === 0) return 'duplicate';

    const [row] = await tx.select().from(media).where(eq(media.id, body.mediaId)).for('update');
    if (!row) throw new AppError('media_not_found', `No media ${body.mediaId}`);
    if (row.status === 'deleted' || row.status === 'rejected') return 'ignored';

    if (body.verdict === 'allowed') {
      await tx.update(media).set({ moderationStatus: 'allowed' }).where(eq(media.id, row.id));
      return 'applied';
    }
    const categories = (body.categories ?? []).map((c) => `${c.name} ${c.score.toFixed(2)}`).join(', ');
    await tx.update(media).set({ moderationStatus: 'rejected' }).where(eq(media.id, row.id));
    await retireMedia(tx, {
      mediaId: row.id,
      objectKey: row.objectKey,
      actor: `moderation:${body.vendor}`,
      to: 'rejected',
      detail: { eventId: body.eventId, vendorJobId: body.vendorJobId, categories: body.categories },
      failure: {
        code: 'moderation_rejected',
        detail: categories ? `rejected for ${categories}` : 'rejected by moderation',
      },
    });
    return 'applied';
  });
}
