import { AppError } from '../../../contracts/errors.ts';
import type { Cursor } from './cursor.ts';
import { announced } from './frames.ts';
import type { TransitionRow, VariantRow } from './reads.ts';

/**
 * Whether this media's stream could have sent `cursor`, so a crafted id is a 400 rather than a replay of the
 * wrong history: its transition must be one of this media's (every media gets one when it is created, in
 * the same transaction, so the stream never sends 0), and each rendition it names one the media has. At a
 * `ready` that is still the media's last move, the ready message announced every rendition the media has,
 * so an id there naming fewer was never sent. Renditions are not removed once announced (a deletion keeps
 * the rows; a final result replaces them with its own set under a new transition), so an id sent earlier
 * still passes.
 */
export function checkCursor(
  cursor: Cursor,
  transitions: Pick<TransitionRow, 'id' | 'toStatus'>[],
  variants: VariantRow[],
): void {
  const at = transitions.findIndex((t) => t.id === cursor.eventId);
  if (at === -1) {
    throw new AppError(
      'validation_failed',
      `Last-Event-ID ${cursor.eventId} is no status move of this media`,
    );
  }
  const has = announced(variants);
  const unknown = [...cursor.qualities].filter((q) => !has.has(q));
  if (unknown.length > 0) {
    throw new AppError(
      'validation_failed',
      `Last-Event-ID names renditions this media does not have: ${unknown}`,
    );
  }
  const missing = [...has].filter((q) => !cursor.qualities.has(q));
  if (transitions[at]?.toStatus === 'ready' && at === transitions.length - 1 && missing.length > 0) {
    throw new AppError(
      'validation_failed',
      `Last-Event-ID ${cursor.eventId} is this media's ready, which also announced ${missing.sort()}`,
    );
  }
}
