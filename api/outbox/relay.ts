import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import {
  markPublished,
  outboxChannel,
  readUnpublished,
  recordPublishFailure,
  type UnpublishedRow,
} from '../../db/queries/outbox.ts';
import { type Bus, type BusMessage, JsonText } from '../../platform/bus/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import type { RelayMetrics } from '../../platform/metrics/outbox.ts';
import { createStamper, type Stamper } from './stamper.ts';

export interface RelayOptions {
  connectionString: string;
  bus: Bus;
  logger: Logger;
  batchSize?: number;
  pollIntervalMs?: number;
  /** How long after its send an event's outbox row may still lack its `published_at` while the relay is busy. */
  stampLagMs?: number;
  metrics?: RelayMetrics;
}

export interface Relay {
  stop(): Promise<void>;
}

/** Any fixed number shared by every API instance; only the holder of this lock relays. */
const leaderLockKey = 0x6d656469;

/**
 * Moves committed outbox rows to the bus. One leader at a time (advisory lock on a dedicated session), so
 * rows go out in commit-independent `seq` order and per-media order holds. A row leaves `outbox_pending` only
 * after the bus accepted it; a crash in between republishes it, which consumers absorb by event id.
 * NOTIFY only wakes the loop early: polling still finds rows whose notification was lost.
 */
export function startRelay(options: RelayOptions): Relay {
  const batchSize = options.batchSize ?? 500;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const stampLagMs = options.stampLagMs ?? 5000;
  let running = true;
  let wake: (() => void) | undefined;
  // A notification that arrives while a batch is being published must not be lost: it means rows committed
  // after the last select, which would otherwise wait for the next poll.
  let notified = false;
  let client: pg.Client | undefined;

  const waitForWork = (ms: number) =>
    new Promise<void>((resolve) => {
      if (notified || !running) return resolve();
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  /**
   * While batch N is on its way to the broker, one statement marks batch N-1 and reads batch N+1 (all but
   * N's rows), so the database's time hides behind the broker's at one round trip and one commit per batch
   * (on a loaded machine each statement also waits its turn for a CPU). One session: marks on a second session,
   * overlapping the reads, were measured to cost PostgreSQL about twice the CPU per event for no gain in rate.
   * Sends stay one at a time and in order: a later batch never goes out before an earlier one was acknowledged,
   * so a failed send is repeated before anything after it (kafkajs's idempotent producer holds one request per
   * broker in flight anyway). Marking only logs the batch; the outbox rows' `published_at` is stamped in bulk
   * on the stamper's session, at most `stampLagMs` later and whenever the relay falls idle.
   */
  async function lead(session: pg.Client, stamper: Stamper): Promise<void> {
    // Marking rows published need not wait for the WAL flush: a mark lost in a database crash only makes the
    // relay publish those rows again, which consumers absorb by event id. The flush wait was most of each
    // batch's database time.
    await session.query('set synchronous_commit = off');
    await session.query(`listen ${outboxChannel}`);
    session.on('notification', () => {
      notified = true;
      wake?.();
    });
    // The last batch the broker acknowledged; the session's next statement marks it.
    let acked: string[] = [];
    // Batches marked and not yet stamped; a leader before this one may have left some.
    let owed = true;
    let stampDue = Date.now() + stampLagMs;
    const stamp = () => {
      stamper.request();
      owed = false;
      stampDue = Date.now() + stampLagMs;
    };
    while (running) {
      notified = false;
      let rows = await readUnpublished(session, batchSize, [], acked);
      acked = [];
      while (rows.length > 0) {
        const seqs = rows.map((r) => r.seq);
        // Only a full batch says more rows are waiting.
        const next =
          rows.length === batchSize
            ? readUnpublished(session, batchSize, seqs, acked)
            : markPublished(session, acked).then(() => []);
        next.catch(() => {});
        if (owed && Date.now() >= stampDue) stamp();
        const failure = await publish(rows);
        if (failure !== undefined) {
          // The rows read ahead are dropped: this batch goes out again before anything after it.
          await next;
          acked = [];
          await recordPublishFailure(
            session,
            rows.map((r) => r.id),
            failureMessage(failure),
          );
          await sleep(1000);
          break;
        }
        acked = seqs;
        owed = true;
        // A failed mark fails the statement and ends the leadership; its rows go out again.
        rows = await next;
        if (!running) rows = [];
      }
      // When more rows were announced meanwhile, the read that fetches them marks this batch (while streaming,
      // one statement per send); otherwise it is marked and stamped before the relay waits, not left pending.
      if (!notified && owed) {
        await markPublished(session, acked);
        acked = [];
        stamp();
      }
      await waitForWork(pollIntervalMs);
    }
    await markPublished(session, acked);
    if (owed) stamp();
  }

  /** Undefined once the bus has durably accepted every row, else why it did not. */
  async function publish(rows: UnpublishedRow[]): Promise<unknown> {
    try {
      // Consecutive rows of one topic go in one send; topic changes keep the overall order.
      for (const run of runsByTopic(rows)) {
        await options.bus.publish(run.topic, run.messages);
        options.metrics?.published(run.topic, run.messages.length);
      }
      return undefined;
    } catch (error) {
      options.logger.warn({ err: error, rows: rows.length }, 'relay publish failed; will retry');
      options.metrics?.failed(rows.length);
      return error ?? new Error('publish failed');
    }
  }

  const loop = (async () => {
    while (running) {
      notified = false;
      try {
        client = new pg.Client({ connectionString: options.connectionString });
        client.on('error', () => {});
        await client.connect();
        const { rows } = await client.query<{ locked: boolean }>(
          'select pg_try_advisory_lock($1) as locked',
          [leaderLockKey],
        );
        if (rows[0]?.locked) {
          options.logger.info('outbox relay is the leader');
          const stamper = createStamper(options.connectionString, options.logger);
          try {
            await lead(client, stamper);
          } finally {
            await stamper.close();
          }
        } else {
          await client.end();
          await waitForWork(2000);
        }
      } catch (error) {
        if (running) options.logger.warn({ err: error }, 'outbox relay lost its session; reconnecting');
        await client?.end().catch(() => {});
        if (running) await sleep(1000);
      }
    }
  })();

  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
      await client?.end().catch(() => {});
    },
  };
}

function failureMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function runsByTopic(rows: UnpublishedRow[]): { topic: string; messages: BusMessage[] }[] {
  const runs: { topic: string; messages: BusMessage[] }[] = [];
  let last: { topic: string; messages: BusMessage[] } | undefined;
  for (const row of rows) {
    const message: BusMessage = {
      id: row.id,
      key: row.aggregate_id,
      type: row.event_type,
      payload: new JsonText(row.payload),
      headers: row.traceparent ? { ...row.headers, traceparent: row.traceparent } : row.headers,
    };
    if (last?.topic === row.topic) last.messages.push(message);
    else {
      last = { topic: row.topic, messages: [message] };
      runs.push(last);
    }
  }
  return runs;
}
