import { setTimeout as sleep } from 'node:timers/promises';
import { eq } from 'drizzle-orm';
import { AppError, type ErrorCode, errorCatalogue } from '../../contracts/errors.ts';
import type { CompleteUploadBody } from '../../contracts/uploads.ts';
import type { Queryable } from '../../db/client.ts';
import { media, type mediaVariant } from '../../db/schema.ts';
import type { Principal } from '../../platform/auth/jwt.ts';
import { annotateActiveSpan, inSpan } from '../../platform/tracing/spans.ts';
import type { ApiContext } from '../context.ts';
import { type GateVerdict, runGate } from '../gate/run-gate.ts';
import { loadVariantsOf } from '../media/view.ts';
import { assembleParts } from './assemble-parts.ts';
import {
  completingError,
  isExpired,
  loadSessionWithMedia,
  type MediaRow,
  requireOpen,
  type SessionRow,
} from './load-session.ts';
import { recordVerdict } from './record-verdict.ts';
import { type Claim, claimCompletion, releaseClaim } from './session-state.ts';

export type { MediaRow };

/** The media a completion answers with, and its variants (smallest first, as the media view lists them). */
export interface CompletedUpload {
  media: MediaRow;
  variants: (typeof mediaVariant.$inferSelect)[];
}

/**
 * Completing is idempotent, concurrent callers included. One request at a time claims the session and
 * runs the gate; the others wait for the outcome it records and answer with it (the same 202 media, the
 * same 422), or, past UPLOAD_COMPLETION_WAIT_SECONDS, with `409 upload_completing` and Retry-After. Once
 * the session is closed, asking again returns the recorded outcome without touching storage or the gate.
 */
export async function completeUpload(
  ctx: ApiContext,
  caller: Principal,
  uploadId: string,
  body: CompleteUploadBody,
): Promise<CompletedUpload> {
  const { completionLeaseSeconds, completionWaitSeconds } = ctx.config.uploads;
  const deadline = Date.now() + completionWaitSeconds * 1000;
  for (let round = 0; ; round++) {
    const { session, media: row } = await loadSessionWithMedia(ctx, caller, uploadId);
    // Asked again after the outcome: the media may have been processed since, so its variants are read.
    if (session.state === 'completed') {
      const completed = outcomeOf(row);
      return { media: completed, variants: await loadVariantsOf(ctx.db, completed.id) };
    }
    if (session.state !== 'completing' || isExpired(session)) requireOpen(session);
    const claim = await claimCompletion(ctx.db, session.id, completionLeaseSeconds);
    if (claim) {
      const outcome = await completeClaimed(ctx, session, row, claim, body);
      // Awaiting its upload until this verdict, the media cannot have variants yet: nothing to read.
      if (outcome) return { media: outcome, variants: [] };
    } else if (Date.now() >= deadline) {
      throw completingError();
    } else {
      await sleep(Math.min(50 * 2 ** round, 500));
    }
  }
}

/**
 * The gate under a claim; undefined when the claim was lost, since whoever took it owns the outcome. `row`
 * was read with the session: what the gate reads of it (key, type, kind, declared size) never changes while
 * the media awaits its upload, and its status is checked again, under lock, when the verdict is recorded.
 */
async function completeClaimed(
  ctx: ApiContext,
  session: SessionRow,
  row: MediaRow,
  claim: Claim,
  body: CompleteUploadBody,
): Promise<MediaRow | undefined> {
  let verdict: GateVerdict;
  try {
    annotateActiveSpan({ 'mediagate.media_id': row.id, 'mediagate.media_kind': row.kind });
    await inSpan('assemble parts', {}, () => assembleParts(ctx, session, body.parts));
    verdict = await inSpan('gate', {}, async (span) => {
      const decided = await runGate(ctx, row.id, {
        objectKey: row.objectKey,
        contentType: row.contentType,
        kind: row.kind,
        declaredSize: row.sizeBytes,
      });
      span.setAttribute('mediagate.gate.verdict', decided.ok ? 'pass' : decided.code);
      return decided;
    });
  } catch (error) {
    // Nothing was decided (missing parts, a vendor outage): the session reopens and completing again is safe.
    if (await releaseClaim(ctx.db, claim)) throw error;
    return undefined;
  }
  const recorded = await recordVerdict(ctx, row, claim, verdict);
  if (!recorded) return undefined;
  if (verdict.ok) ctx.metrics.completed.inc({ kind: row.kind });
  else ctx.metrics.rejected.inc({ kind: row.kind, code: verdict.code });
  if (!verdict.ok) {
    // Queued for the sweeper in the same transaction; deleting now only saves the wait.
    await ctx.storage.delete([row.objectKey]).catch((error: unknown) => {
      ctx.logger.warn({ err: error, mediaId: row.id }, 'rejected upload left for the sweeper');
    });
  }
  // The row as the verdict left it; read again only when the media had moved on (deleted meanwhile).
  return outcomeOf(recorded.row ?? (await loadMedia(ctx.db, row.id)));
}

async function loadMedia(db: Queryable, mediaId: string): Promise<MediaRow> {
  const [row] = await db.select().from(media).where(eq(media.id, mediaId));
  if (!row) throw new AppError('media_not_found', `No media ${mediaId}`);
  return row;
}

/** A completed upload answers with its media, its rejection, or, once its owner deleted it, `gone`. */
function outcomeOf(row: MediaRow): MediaRow {
  if (row.status === 'rejected') {
    const code = row.failureCode ?? '';
    throw new AppError(
      Object.hasOwn(errorCatalogue, code) ? (code as ErrorCode) : 'media_rejected',
      row.failureDetail ?? undefined,
    );
  }
  if (row.status === 'deleted') throw new AppError('gone', 'The media of this upload was deleted');
  return row;
}
