import pg from 'pg';
import { markPublished, readUnpublished, stampPublished } from '../db/queries/outbox.ts';

// What the relay's own statements cost PostgreSQL, outside the pipelined loop: each batch read and marked on a
// session of its own (as the leader's: synchronous_commit off), so their times are not hidden behind sends,
// then every marked batch's outbox rows stamped published in one statement.

export interface StatementTimes {
  /** Milliseconds per statement, one entry per batch. */
  read: number[];
  mark: number[];
  /** The relay's own statement: marks the batch before and reads the next. */
  markAndRead: number[];
  /** Stamping the outbox rows of every batch marked, in one statement, per batch. */
  stamp: number[];
}

/**
 * Reads and marks the pending rows batch by batch until none are left, timing each statement: the first
 * `separately` batches as a read and a mark, the rest as the relay runs them, one statement each.
 */
export async function timeRelayStatements(
  connectionString: string,
  batchSize: number,
  separately: number,
): Promise<StatementTimes> {
  const session = new pg.Client({ connectionString });
  await session.connect();
  const times: StatementTimes = { read: [], mark: [], markAndRead: [], stamp: [] };
  const timed = async <T>(into: number[], work: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await work();
    into.push(performance.now() - start);
    return result;
  };
  try {
    await session.query('set synchronous_commit = off');
    for (let i = 0; i < separately; i++) {
      const rows = await timed(times.read, () => readUnpublished(session, batchSize, []));
      await timed(times.mark, () =>
        markPublished(
          session,
          rows.map((r) => r.seq),
        ),
      );
    }
    let rows = await readUnpublished(session, batchSize, []);
    let batches = separately + 1;
    while (rows.length > 0) {
      const seqs = rows.map((r) => r.seq);
      rows = await timed(times.markAndRead, () => readUnpublished(session, batchSize, [], seqs));
      if (rows.length > 0) batches++;
    }
    const stamping: number[] = [];
    await timed(stamping, () => stampPublished(session));
    times.stamp.push((stamping[0] ?? 0) / batches);
    return times;
  } finally {
    await session.end();
  }
}

/** Updates of outbox rows so far, and how many of them were HOT (no index entry written). */
export async function outboxUpdates(pool: pg.Pool): Promise<{ updates: number; hot: number }> {
  // Sessions report their statistics within a second of a transaction's end.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const { rows } = await pool.query<{ updates: string; hot: string }>(
    `select n_tup_upd as updates, n_tup_hot_upd as hot from pg_stat_user_tables where relname = 'outbox'`,
  );
  return { updates: Number(rows[0]?.updates ?? 0), hot: Number(rows[0]?.hot ?? 0) };
}

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const max = (values: number[]) => Math.max(0, ...values);

/** `median / max` milliseconds, for the table. */
export const summary = (values: number[]) => `${median(values).toFixed(1)} / ${max(values).toFixed(1)}`;
