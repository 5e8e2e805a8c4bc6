import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { markPublished, readUnpublished } from '../../db/queries/outbox.ts';
import {
  allPublished,
  commitEvents,
  database,
  newMedia,
  postgres,
  receive,
  relayWith,
  useRelayHarness,
  waitFor,
} from './relay-harness.ts';

// What the outbox's readers see of the relay's sends: rows leave outbox_pending once acknowledged, and their
// published_at is stamped in bulk soon after, while the relay is busy as well as once it is idle, and after a
// leader died between the two.

useRelayHarness();

test('a relay gone idle has marked what it sent, not left it pending until its next poll', async () => {
  const consumer = await receive('idle');
  const relay = relayWith({ batchSize: 10, pollIntervalMs: 600_000 });
  try {
    const ids = await commitEvents('idle', newMedia(4), 0, 3);
    await consumer.received(ids, 'every event');
    await allPublished();
  } finally {
    await relay.stop();
    await consumer.subscription.stop();
  }
});
test('a relay kept busy stamps published_at on what it sent within its lag, not only once idle', async () => {
  const ids = await commitEvents('busy', newMedia(50), 0, 60);
  const consumer = await receive('busy');
  const relay = relayWith({ batchSize: 5, stampLagMs: 200 });
  const progress = async () => {
    const { rows } = await database.pool.query<{ pending: number; stamped: number }>(
      `select (select count(*)::int from outbox_pending where topic = $1) as pending,
              (select count(*)::int from outbox where topic = $1 and published_at is not null) as stamped`,
      ['busy'],
    );
    return rows[0] ?? { pending: 0, stamped: 0 };
  };
  try {
    let seen = await progress();
    await waitFor(async () => {
      seen = await progress();
      return seen.stamped > 0;
    }, 'a stamp');
    assert.ok(seen.pending > 0, `stamped while ${seen.pending} rows were still waiting to be sent`);
    await consumer.received(ids, 'every event');
    await allPublished();
  } finally {
    await relay.stop();
    await consumer.subscription.stop();
  }
});
test('batches a leader marked sent but did not stamp before it died are stamped by the next one', async () => {
  const ids = await commitEvents('orphaned', newMedia(6), 0, 1);
  // The leader that died: it sent these and took them out of pending, and was gone before stamping them.
  const dead = new pg.Client({ connectionString: postgres.url });
  await dead.connect();
  const rows = await readUnpublished(dead, 100, []);
  await markPublished(
    dead,
    rows.map((r) => r.seq),
  );
  await dead.end();
  const sentBy = new Date();
  const { rows: before } = await database.pool.query(
    'select from outbox where id = any($1) and published_at is null',
    [ids],
  );
  assert.equal(before.length, ids.length, 'not stamped yet');
  const relay = relayWith({ batchSize: 10 });
  try {
    await allPublished();
    const { rows: stamped } = await database.pool.query<{ published_at: Date }>(
      'select published_at from outbox where id = any($1)',
      [ids],
    );
    for (const row of stamped)
      assert.ok(row.published_at <= sentBy, 'stamped with the time its batch was marked');
  } finally {
    await relay.stop();
  }
});
