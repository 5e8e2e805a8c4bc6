import pg from 'pg';
import { markPublished, readUnpublished } from '../db/queries/outbox.ts';

// What the relay's own statements cost PostgreSQL, outside the pipelined loop: each batch read and marked on a
// session of its own (as the leader's: synchronous_commit off), so their times are not hidden behind sends.

export interface StatementTimes {
  /** Milliseconds per statement, one entry per batch. */
  read: number[];
  mark: number[];
}

/** Reads and marks the pending rows batch by batch until none are left, timing each statement. */
export async function timeRelayStatements(
  connectionString: string,
  batchSize: number,
): Promise<StatementTimes> {
  const session = new pg.Client({ connectionString });
  await session.connect();
  const times: StatementTimes = { read: [], mark: [] };
  try {
    await session.query('set synchronous_commit = off');
    for (;;) {
      let start = performance.now();
      const rows = await readUnpublished(session, batchSize, []);
      if (rows.length === 0) return times;
      times.read.push(performance.now() - start);
      start = performance.now();
      await markPublished(
        session,
        rows.map((r) => r.seq),
      );
      times.mark.push(performance.now() - start);
    }
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
