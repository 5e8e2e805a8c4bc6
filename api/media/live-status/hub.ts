import { AppError } from '../../../contracts/errors.ts';
import type { Database } from '../../../db/client.ts';
import type { Config } from '../../../platform/config.ts';
import type { Logger } from '../../../platform/logger.ts';
import type { LiveStatusMetrics } from '../../../platform/metrics/live-status.ts';
import { loadVariantsOf } from '../view.ts';
import { type Watcher, watchableMedia } from './access.ts';
import type { Cursor } from './cursor.ts';
import { checkCursor } from './cursor-check.ts';
import { type Frame, framesSince, isTerminal, openingFrames, type StreamPosition } from './frames.ts';
import {
  lastTransition,
  latestTransitionId,
  type MediaRow,
  readChanges,
  readHistory,
  readVersions,
  versionOf,
} from './reads.ts';
import { SseStream } from './sse-stream.ts';

/** Past this much unread output a client is dropped (it resumes from its Last-Event-ID). */
const maxBufferedBytes = 256 * 1024;

interface Subscriber {
  watcher: Watcher;
  mediaId: string;
  stream: SseStream;
  position: StreamPosition;
  /** The media's `status@updated_at` when this stream was last brought up to date. */
  version: string;
}

export interface LiveStatusHub {
  /** The stream to send, or undefined when there is nothing more to say (the client is past the end: 204). */
  open(watcher: Watcher, mediaId: string, cursor: Cursor | undefined): Promise<SseStream | undefined>;
  /** Ends every stream at once (shutdown); clients reconnect to another instance with their Last-Event-ID. */
  close(): void;
}

export interface LiveStatusDeps {
  db: Database;
  config: Config;
  logger: Logger;
  metrics: LiveStatusMetrics;
}

/**
 * Every open stream of this process, driven by the database so any API instance can serve any client and
 * a restart loses nothing: one poller asks, each tick, for the version of every watched media in one
 * query, and reads transitions and renditions only for those that changed (two more queries for all of
 * them), whatever the number of streams. One timer pings them all.
 */
export function createLiveStatusHub({ db, config, logger, metrics }: LiveStatusDeps): LiveStatusHub {
  const settings = config.liveStatus;
  const subscribers = new Set<Subscriber>();
  const perUser = new Map<string, number>();
  let reserved = 0;
  let closed = false;

  const sent = (frame: Frame) => metrics.sent.inc({ type: frame.type });
  const release = (sub: string) => {
    reserved--;
    const n = (perUser.get(sub) ?? 1) - 1;
    if (n === 0) perUser.delete(sub);
    else perUser.set(sub, n);
    metrics.open.set(reserved);
  };
  const reserve = (sub: string) => {
    if (closed || reserved >= settings.maxStreams) {
      throw new AppError('live_status_busy', `This instance holds ${settings.maxStreams} streams`, {
        'retry-after': String(Math.ceil(settings.retryMs / 1000)),
      });
    }
    const mine = perUser.get(sub) ?? 0;
    if (mine >= settings.maxStreamsPerUser) {
      throw new AppError('too_many_streams', `At most ${settings.maxStreamsPerUser} open streams per user`, {
        'retry-after': String(Math.ceil(settings.retryMs / 1000)),
      });
    }
    reserved++;
    perUser.set(sub, mine + 1);
    metrics.open.set(reserved);
  };

  async function firstFrames(watcher: Watcher, row: MediaRow, cursor: Cursor | undefined, latest: number) {
    if (!cursor) {
      // An end committed after `latest` was read is in the row: its id must be in the cursor, or the
      // client's reconnect would be told the end again instead of 204; the move also says who ended it.
      const end = isTerminal(row.status) ? await lastTransition(db, row.id) : undefined;
      const variants = await loadVariantsOf(db, row.id);
      return openingFrames(config, watcher.principal, row, variants, end?.id ?? latest, end);
    }
    const changes = await readChanges(db, [row.id], cursor.eventId);
    const current = changes.rows.get(row.id) ?? row;
    const next = framesSince(
      config,
      watcher.principal,
      current,
      changes.transitions.get(row.id) ?? [],
      changes.variants.get(row.id) ?? [],
      { cursor, progress: null },
    );
    return { ...next, ended: next.ended || isTerminal(current.status) };
  }

  async function tick(): Promise<void> {
    const live = [...subscribers].filter((s) => !s.stream.ended);
    if (live.length === 0) return;
    const versions = await readVersions(db, [...new Set(live.map((s) => s.mediaId))]);
    const stale = live.filter((s) => versions.get(s.mediaId) !== s.version);
    if (stale.length === 0) return;
    const after = Math.min(...stale.map((s) => s.position.cursor.eventId));
    const changes = await readChanges(db, [...new Set(stale.map((s) => s.mediaId))], after);
    for (const s of stale) {
      const row = changes.rows.get(s.mediaId);
      if (!row) {
        s.stream.end();
        continue;
      }
      const next = framesSince(
        config,
        s.watcher.principal,
        row,
        changes.transitions.get(s.mediaId) ?? [],
        changes.variants.get(s.mediaId) ?? [],
        s.position,
      );
      for (const frame of next.frames) s.stream.send(frame);
      s.position = next.position;
      s.version = versions.get(s.mediaId) ?? s.version;
      if (next.ended) s.stream.end();
    }
  }

  let timer: NodeJS.Timeout | undefined;
  // Streams stay open through a database outage and catch up after it; one line per outage, not per tick.
  let failing = false;
  const poll = () => {
    timer = setTimeout(async () => {
      try {
        await tick();
        if (failing) logger.info('live status poll recovered');
        failing = false;
      } catch (error) {
        if (!failing) logger.warn({ err: error }, 'live status poll failed; retrying every SSE_POLL_MS');
        failing = true;
      }
      if (!closed) poll();
    }, settings.pollMs);
    timer.unref();
  };
  poll();
  const heartbeat = setInterval(() => {
    for (const s of subscribers) s.stream.ping();
  }, settings.heartbeatMs);
  heartbeat.unref();

  return {
    async open(watcher, mediaId, cursor) {
      const sub = watcher.principal.sub;
      reserve(sub);
      let stream: SseStream | undefined;
      try {
        // The newest transition id before the row: a move committed in between is sent again, never lost.
        const latest = await latestTransitionId(db, mediaId);
        const row = await watchableMedia(db, watcher, mediaId);
        if (cursor) {
          const history = await readHistory(db, mediaId);
          checkCursor(cursor, history.transitions, history.variants);
        }
        const first = await firstFrames(watcher, row, cursor, latest);
        if (first.ended && first.frames.length === 0) {
          release(sub);
          return undefined;
        }
        stream = new SseStream(maxBufferedBytes, sent);
        const subscriber: Subscriber = {
          watcher,
          mediaId,
          stream,
          position: first.position,
          version: versionOf(row),
        };
        stream.body.once('close', () => {
          subscribers.delete(subscriber);
          release(sub);
        });
        stream.retry(settings.retryMs);
        for (const frame of first.frames) stream.send(frame);
        if (first.ended || closed) stream.end();
        else subscribers.add(subscriber);
        return stream;
      } catch (error) {
        if (!stream) release(sub);
        throw error;
      }
    },
    close() {
      closed = true;
      clearTimeout(timer);
      clearInterval(heartbeat);
      for (const s of subscribers) s.stream.end();
    },
  };
}
