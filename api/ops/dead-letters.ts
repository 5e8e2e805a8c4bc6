import { AppError } from '../../contracts/errors.ts';
import type { DlqQuery, RedriveBody } from '../../contracts/ops.ts';
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

/** Named dead letters that are not pending (a typo, or redriven already) are a 404, not a silent 0. */
export async function redriveDeadLetters(admin: DeadLetterAdmin, body: RedriveBody) {
  const redriven = await admin.redrive(body.topic, { group: body.group, ids: body.ids });
  if (body.ids && redriven === 0) throw new AppError('not_found', 'None of these dead letters is pending');
  return { redriven };
}
