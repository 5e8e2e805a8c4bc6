import { eq } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import type { ModerationWebhookBody } from '../../contracts/webhooks.ts';
import { announceUpdates } from '../../db/queries/lifecycle.ts';
import { media, webhookEvent } from '../../db/schema.ts';
import type { ApiContext } from '../context.ts';
import { lockContentGalleries, takeDownContent } from './take-down-content.ts';

export type WebhookOutcome = 'applied' | 'duplicate' | 'ignored';

/**
 * Applies a vendor's verdict once per vendor event id, and only to the judgement it answers: the media's
 * own vendor job (`moderation_job_id`, recorded by the gate when the vendor answered `pending`). A verdict
 * naming another job, or none, is refused with `409 moderation_job_unknown` and its event id stays unspent,
 * so a vendor that delivers before the completion recorded the job succeeds on its retry. While the job is
 * pending, `rejected` takes the media down wherever it is in its life (processing, ready, failed), with
 * every media holding the same bytes (takeDownContent): status `rejected`, objects queued for
 * ref-count-aware deletion, out of the gallery, 410 at the edge; `allowed`
 * settles the judgement. A verdict on a settled job, or on retired media, is recorded and ignored.
 */
export async function applyWebhookVerdict(
  ctx: ApiContext,
  body: ModerationWebhookBody,
): Promise<WebhookOutcome> {
  return ctx.db.transaction(async (tx) => {
    const [content] = await tx.select().from(media).where(eq(media.id, body.mediaId));
    if (!content) throw new AppError('media_not_found', `No media ${body.mediaId}`);
    // Galleries first, then the row: the order every writer of a gallery takes its locks in.
    await lockContentGalleries(tx, content);
    const [row] = await tx.select().from(media).where(eq(media.id, body.mediaId)).for('update');
    if (!row) throw new AppError('media_not_found', `No media ${body.mediaId}`);

    const fresh = await tx
      .insert(webhookEvent)
      .values({ vendor: body.vendor, eventId: body.eventId })
      .onConflictDoNothing()
      .returning({ eventId: webhookEvent.eventId });
    if (fresh.length === 0) return 'duplicate';
    // Compared here rather than in SQL: the job id is the vendor's text and reaches no query.
    if (row.moderationJobId === null || row.moderationJobId !== body.vendorJobId) {
      // Thrown, so the transaction rolls back and the event id is not spent.
      throw new AppError(
        'moderation_job_unknown',
        `Media ${row.id} has no moderation job ${JSON.stringify(body.vendorJobId ?? null)}`,
      );
    }
    if (row.moderationStatus !== 'pending' || row.status === 'deleted' || row.status === 'rejected') {
      return 'ignored';
    }

    if (body.verdict === 'allowed') {
      await tx.update(media).set({ moderationStatus: 'allowed' }).where(eq(media.id, row.id));
      // Visible beyond its owner from now on: apps hear it as an update.
      await announceUpdates(tx, [row.id]);
      return 'applied';
    }
    const categories = (body.categories ?? []).map((c) => `${c.name} ${c.score.toFixed(2)}`).join(', ');
    await takeDownContent(tx, row, {
      actor: `moderation:${body.vendor}`,
      detail: { eventId: body.eventId, vendorJobId: body.vendorJobId, categories: body.categories },
      failure: {
        code: 'moderation_rejected',
        detail: categories ? `rejected for ${categories}` : 'rejected by moderation',
      },
    });
    return 'applied';
  });
}
