import { and, eq, inArray } from 'drizzle-orm';
import { AppError } from '../../contracts/errors.ts';
import { topics } from '../../contracts/events.ts';
import type { DlqQuery, RedriveBody } from '../../contracts/ops.ts';
import type { Database } from '../../db/client.ts';
import { transitionMedia } from '../../db/queries/media-status.ts';
import { media } from '../../db/schema.ts';
import type { DeadLetter, DeadLetterAdmin } from '../../platform/bus/dead-letters.ts';

/** A dead letter as operators see it: the event, who gave up on it, and why. */
export function deadLetterView(letter: DeadLetter) {
  return {
    id: letter.id,
    group: letter.group,
    eventId: letter.message.id,
    key: letter.message.key,
    eventType: letter.message.type,
    payload: letter.message.payload,
    headers: letter.message.headers,
    error: letter.error,
    attempts: letter.attempts,
    failedAt: letter.failedAt.toISOString(),
  };
}

export async function listDeadLetters(admin: DeadLetterAdmin, query: DlqQuery) {
  const letters = await admin.listDeadLetters(query.topic, { group: query.group, limit: query.limit });
  return { items: letters.map(deadLetterView) };
}

/** Every pending letter, for a redrive of them all: the queues are read whole either way. */
const allLetters = 1_000_000;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Named dead letters that are not pending (a typo, or redriven already) are a 404, not a silent 0.
 * Redriven optimize requests put their media back to `processing` first, so the owner sees the media being
 * worked on again rather than a failure that is no longer true.
 */
export async function redriveDeadLetters(
  deps: { deadLetters: DeadLetterAdmin; db: Database },
  body: RedriveBody,
) {
  const requeuedMedia =
    body.topic === topics.optimizeRequest ? await requeueDeadLetteredMedia(deps, body) : 0;
  const redriven = await deps.deadLetters.redrive(body.topic, { group: body.group, ids: body.ids });
  if (body.ids && redriven === 0) throw new AppError('not_found', 'None of these dead letters is pending');
  return { redriven, requeuedMedia };
}

async function requeueDeadLetteredMedia(
  deps: { deadLetters: DeadLetterAdmin; db: Database },
  body: RedriveBody,
): Promise<number> {
  const letters = await deps.deadLetters.listDeadLetters(body.topic, {
    group: body.group,
    limit: allLetters,
  });
  const chosen = body.ids ? letters.filter((l) => body.ids?.includes(l.id)) : letters;
  // The key of an optimize request is its media id; anything else was never ours to requeue.
  const mediaIds = [...new Set(chosen.map((l) => l.message.key).filter((k) => uuidPattern.test(k)))];
  if (mediaIds.length === 0) return 0;
  return deps.db.transaction(async (tx) => {
    // Only media that failed because of the dead letter: any other failure stays the media's outcome.
    const rows = await tx
      .select({ id: media.id })
      .from(media)
      .where(
        and(
          inArray(media.id, mediaIds),
          eq(media.status, 'failed'),
          eq(media.failureCode, 'processing_dead_lettered'),
        ),
      )
      .for('update');
    let moved = 0;
    for (const row of rows) {
      const requeued = await transitionMedia(tx, {
        mediaId: row.id,
        from: 'failed',
        to: 'processing',
        actor: 'operator',
        detail: { redrive: true },
        patch: { failureCode: null, failureDetail: null, progress: null },
      });
      if (requeued) moved++;
    }
    return moved;
  });
}
