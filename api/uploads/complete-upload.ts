import { eq, sql } from 'drizzle-orm';
import type { ErrorCode } from '../../contracts/errors.ts';
import { AppError } from '../../contracts/errors.ts';
import { type OptimizeRequest, topics } from '../../contracts/events.ts';
import type { CompleteUploadBody } from '../../contracts/uploads.ts';
import type { Queryable } from '../../db/client.ts';
import { lockGallery, renumberGallery } from '../../db/queries/gallery.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { enqueueEvents } from '../../db/queries/outbox.ts';
import { media, uploadSession } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import type { ApiContext } from '../context.ts';
import { runGate } from '../gate/run-gate.ts';
import { edgeUrl } from '../media/urls.ts';
import { assembleParts } from './assemble-parts.ts';
import { loadSession, requireOpen, type SessionRow } from './load-session.ts';

type MediaRow = typeof media.$inferSelect;

/**
 * Completing is idempotent: once the session is closed, asking again returns the outcome recorded the
 * first time (processing, ready or the rejection), without touching storage or the gate.
 */
export async function completeUpload(
  ctx: ApiContext,
  caller: Principal,
  uploadId: string,
  body: CompleteUploadBody,
): Promise<MediaRow> {
  const session = await loadSession(ctx, caller, uploadId);
  if (session.state === 'completed') return recordedOutcome(ctx, session.mediaId);
  requireOpen(session);
  const row = await loadMedia(ctx.db, session.mediaId);

  await assembleParts(ctx, session, body.parts);
  const verdict = await runGate(ctx, row.id, {
    objectKey: row.objectKey,
    contentType: row.contentType,
    kind: row.kind,
    declaredSize: row.sizeBytes,
  });

  if (!verdict.ok) {
    await ctx.storage.delete([row.objectKey]);
    await ctx.db.transaction(async (tx) => {
      await lockGallery(tx, row.ownerId);
      await closeSession(tx, session);
      await transitionMedia(tx, {
        mediaId: row.id,
        from: 'awaiting_upload',
        to: 'rejected',
        actor: 'gate',
        detail: { code: verdict.code, detail: verdict.detail },
        patch: { failureCode: verdict.code, failureDetail: verdict.detail },
      });
      await renumberGallery(tx, row.ownerId);
    });
    return recordedOutcome(ctx, row.id);
  }

  const request: OptimizeRequest = {
    mediaId: row.id,
    bucket: row.bucket,
    objectKey: row.objectKey,
    kind: row.kind,
    contentType: row.contentType,
    canonicalUrl: edgeUrl(ctx.config, row.objectKey),
    probe: { ...verdict.probe },
  };
  await ctx.db.transaction(async (tx) => {
    await closeSession(tx, session);
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
      await enqueueEvents(tx, [
        {
          aggregateId: row.id,
          topic: topics.optimizeRequest,
          eventType: 'media.optimize.request',
          payload: request,
        },
      ]);
    }
  });
  return recordedOutcome(ctx, row.id);
}

async function closeSession(tx: Queryable, session: SessionRow): Promise<void> {
  await tx
    .update(uploadSession)
    .set({ state: 'completed', closedAt: sql`now()` })
    .where(eq(uploadSession.id, session.id));
}

async function loadMedia(db: Queryable, mediaId: string): Promise<MediaRow> {
  const [row] = await db.select().from(media).where(eq(media.id, mediaId));
  if (!row) throw new AppError('media_not_found', `No media ${mediaId}`);
  return row;
}

async function recordedOutcome(ctx: ApiContext, mediaId: string): Promise<MediaRow> {
  const row = await loadMedia(ctx.db, mediaId);
  if (row.status === 'rejected') {
    throw new AppError((row.failureCode ?? 'media_rejected') as ErrorCode, row.failureDetail ?? undefined);
  }
  return row;
}
