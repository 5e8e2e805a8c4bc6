import { AppError } from '../../../contracts/errors.ts';

/**
 * Where a client is in one media's stream, carried as the SSE `id:` so a reconnect resumes exactly there:
 * the last `media_event` row it was told about, and the renditions it was told are ready. Transitions of
 * one media are written under its row lock, so their ids rise in commit order and "after id N" has no
 * gaps; renditions are upserted by quality, so the set of qualities is what was seen, whatever order the
 * rows were written in. Text form: `42` or `42.low,medium,poster` (qualities sorted).
 */
export interface Cursor {
  eventId: number;
  qualities: ReadonlySet<string>;
}

const shape = /^(0|[1-9][0-9]{0,15})(?:\.([A-Za-z0-9_-]{1,64}(?:,[A-Za-z0-9_-]{1,64}){0,255}))?$/;

export function formatCursor(cursor: Cursor): string {
  const qualities = [...cursor.qualities].sort();
  return qualities.length === 0 ? String(cursor.eventId) : `${cursor.eventId}.${qualities.join(',')}`;
}

/** The client's `Last-Event-ID` (header or query); absent or empty → a fresh stream. */
export function parseCursor(raw: string | undefined): Cursor | undefined {
  if (raw === undefined || raw === '') return undefined;
  const match = shape.exec(raw);
  const eventId = Number(match?.[1]);
  if (!match || !Number.isSafeInteger(eventId)) {
    throw new AppError(
      'validation_failed',
      'Last-Event-ID must be an id this stream sent: digits, optionally followed by ".quality,quality…"',
    );
  }
  const cursor = { eventId, qualities: new Set(match[2] ? match[2].split(',') : []) };
  // The stream sends each name once, sorted: any other spelling is an id it never sent.
  if (formatCursor(cursor) !== raw) {
    throw new AppError('validation_failed', 'Last-Event-ID must name each rendition once, in sorted order');
  }
  return cursor;
}
