import type { DeletedBy, RejectedBy } from '../../../contracts/lifecycle.ts';
import type { MediaStatus } from '../../../contracts/media.ts';
import type { LiveStatusEventType, LiveStatusMessage } from '../../../contracts/media-events.ts';
import type { Principal } from '../../../platform/auth/jwt.ts';
import type { Config } from '../../../platform/config.ts';
import { viewerUrlFactory } from '../urls.ts';
import { namedInView, toMediaView, variantView } from '../view.ts';
import { type Cursor, formatCursor } from './cursor.ts';
import type { MediaRow, TransitionRow, VariantRow } from './reads.ts';

/** One SSE message: `id` is absent on progress, which is state to overwrite, not an event to resume from. */
export interface Frame {
  id?: string;
  type: LiveStatusEventType;
  message: LiveStatusMessage;
}

/** What one stream has told its client so far. */
export interface StreamPosition {
  cursor: Cursor;
  /** The progress last sent, as JSON; a tick sends progress only when it differs. */
  progress: string | null;
}

export interface Frames {
  frames: Frame[];
  position: StreamPosition;
  /** A terminal event was among the frames: the stream ends after them. */
  ended: boolean;
}

const terminalStatuses: ReadonlySet<MediaStatus> = new Set(['ready', 'failed', 'rejected', 'deleted']);

export function isTerminal(status: MediaStatus): boolean {
  return terminalStatuses.has(status);
}

/** The first message of a fresh stream: the media as it is, its view included. */
export function openingFrames(
  config: Config,
  viewer: Principal,
  row: MediaRow,
  variants: VariantRow[],
  latestTransitionId: number,
  end?: TransitionRow,
): Frames {
  const cursor = { eventId: latestTransitionId, qualities: announced(variants) };
  if (isTerminal(row.status)) {
    return {
      frames: [terminalFrame(config, viewer, row, variants, cursor, end)],
      position: { cursor, progress: null },
      ended: true,
    };
  }
  const frame: Frame = {
    id: formatCursor(cursor),
    type: 'media.status',
    message: {
      type: 'media.status',
      timestamp: row.updatedAt.toISOString(),
      data: {
        mediaId: row.id,
        status: row.status,
        from: null,
        media: toMediaView(config, viewer, row, variants),
      },
    },
  };
  return { frames: [frame], position: { cursor, progress: progressKey(row) }, ended: false };
}

/**
 * Everything past `position`, in the order a client can act on: status moves, then renditions that became
 * ready, then the job's progress, and last the terminal event (its renditions are announced before it).
 */
export function framesSince(
  config: Config,
  viewer: Principal,
  row: MediaRow,
  transitions: TransitionRow[],
  variants: VariantRow[],
  position: StreamPosition,
): Frames {
  const frames: Frame[] = [];
  let eventId = position.cursor.eventId;
  const qualities = new Set(position.cursor.qualities);
  let terminal: TransitionRow | undefined;
  for (const t of transitions) {
    if (t.id <= eventId) continue;
    if (isTerminal(t.toStatus as MediaStatus)) {
      terminal = t;
      break;
    }
    eventId = t.id;
    frames.push({
      id: formatCursor({ eventId, qualities }),
      type: 'media.status',
      message: {
        type: 'media.status',
        timestamp: t.at.toISOString(),
        data: {
          mediaId: row.id,
          status: t.toStatus as MediaStatus,
          from: t.fromStatus as MediaStatus | null,
        },
      },
    });
  }
  const retired = row.status === 'deleted' || row.status === 'rejected';
  const url = viewerUrlFactory(config, viewer.sub, row.visibility === 'public');
  for (const v of retired ? [] : variants.filter(namedInView).sort(byArrival)) {
    if (qualities.has(v.quality)) continue;
    qualities.add(v.quality);
    frames.push({
      id: formatCursor({ eventId, qualities }),
      type: 'media.variant.ready',
      message: {
        type: 'media.variant.ready',
        timestamp: v.createdAt.toISOString(),
        data: { mediaId: row.id, ownerId: row.ownerId, kind: row.kind, variant: variantView(v, url) },
      },
    });
  }
  let progress = position.progress;
  const current = progressKey(row);
  if (!terminal && current !== null && current !== progress) {
    progress = current;
    frames.push({
      type: 'media.progress',
      message: {
        type: 'media.progress',
        timestamp: row.updatedAt.toISOString(),
        data: { mediaId: row.id, progress: row.progress ?? {} },
      },
    });
  }
  if (terminal) {
    const cursor = { eventId: terminal.id, qualities };
    frames.push(terminalFrame(config, viewer, row, variants, cursor, terminal));
    return { frames, position: { cursor, progress }, ended: true };
  }
  return { frames, position: { cursor: { eventId, qualities }, progress }, ended: false };
}

function terminalFrame(
  config: Config,
  viewer: Principal,
  row: MediaRow,
  variants: VariantRow[],
  cursor: Cursor,
  transition: TransitionRow | undefined,
): Frame {
  const status = transition?.toStatus ?? row.status;
  const timestamp = (transition?.at ?? row.updatedAt).toISOString();
  const subject = { mediaId: row.id, ownerId: row.ownerId, kind: row.kind };
  const reason = { code: row.failureCode ?? 'processing_failed', detail: row.failureDetail ?? '' };
  const actor = transition?.actor ?? '';
  const frame = (message: LiveStatusMessage): Frame => ({
    id: formatCursor(cursor),
    type: message.type,
    message,
  });
  if (status === 'ready') {
    const url = viewerUrlFactory(config, viewer.sub, row.visibility === 'public');
    return frame({
      type: 'media.ready',
      timestamp,
      data: {
        ...subject,
        variants: variants.filter(namedInView).map((v) => variantView(v, url)),
        media: toMediaView(config, viewer, row, variants),
      },
    });
  }
  if (status === 'failed') return frame({ type: 'media.failed', timestamp, data: { ...subject, reason } });
  if (status === 'rejected') {
    return frame({ type: 'media.rejected', timestamp, data: { ...subject, reason, by: rejectedBy(actor) } });
  }
  return frame({ type: 'media.deleted', timestamp, data: { ...subject, by: deletedBy(actor, row.ownerId) } });
}

/**
 * Who ended a media, from the actor its transition recorded (db/queries/media-status.ts callers): the
 * lifecycle event's `by` is decided at the call site and not stored on the transition, so a stream that
 * resumes long after reads it back from the actor.
 */
function rejectedBy(actor: string): RejectedBy {
  if (actor === 'scanner') return 'malware';
  return actor.startsWith('moderation') ? 'moderation' : 'gate';
}

function deletedBy(actor: string, ownerId: string): DeletedBy {
  if (actor === 'sweeper') return 'expiry';
  if (actor === 'scanner' || actor.startsWith('moderation')) return 'takedown';
  return actor === ownerId ? 'owner' : 'operator';
}

/** Renditions in the order they were stored; a batch stored together (the final swap), smallest first. */
function byArrival(a: VariantRow, b: VariantRow): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || a.bytes - b.bytes;
}

/** The renditions a stream tells its client of: every one in the view. */
export function announced(variants: VariantRow[]): Set<string> {
  return new Set(variants.filter(namedInView).map((v) => v.quality));
}

function progressKey(row: MediaRow): string | null {
  return row.status === 'processing' && row.progress ? JSON.stringify(row.progress) : null;
}
