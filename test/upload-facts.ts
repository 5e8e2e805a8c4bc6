import assert from 'node:assert/strict';
import { sql } from 'drizzle-orm';
import type { InProcessApi } from './in-process.ts';

/** What the database says about one upload: the facts every race test checks for consistency. */
export interface UploadFacts {
  session: string;
  media: string;
  /** Optimize requests queued in the outbox for the media. */
  optimizeRequests: number;
  /** The media's status history, oldest first. */
  history: string[];
}

export async function uploadFacts(api: InProcessApi, uploadId: string): Promise<UploadFacts> {
  const { rows } = await api.database.db.execute<{
    session: string;
    media: string;
    requests: number;
    history: string[];
  }>(sql`
    select s.state as session, m.status as media,
           (select count(*)::int from outbox o
             where o.aggregate_id = m.id and o.event_type = 'media.optimize.request') as requests,
           (select array_agg(e.to_status order by e.id) from media_event e where e.media_id = m.id) as history
      from upload_session s join media m on m.id = s.media_id
     where s.id = ${uploadId}`);
  const [row] = rows;
  assert.ok(row, `no upload ${uploadId}`);
  return { session: row.session, media: row.media, optimizeRequests: row.requests, history: row.history };
}

/**
 * The only consistent end states of an upload: completed, its media past the gate (exactly one optimize
 * request if it passed, none if rejected; its owner may have deleted it since), or closed without a
 * completion, its media deleted and never processed.
 */
export function assertConsistent(facts: UploadFacts, context = ''): void {
  const at = `${context} ${JSON.stringify(facts)}`;
  if (facts.session === 'completed') {
    const passed = facts.history.includes('processing');
    assert.ok(passed || facts.history.includes('rejected'), at);
    assert.equal(facts.optimizeRequests, passed ? 1 : 0, at);
  } else {
    assert.ok(['aborted', 'expired'].includes(facts.session), at);
    assert.equal(facts.media, 'deleted', at);
    assert.equal(facts.optimizeRequests, 0, at);
    assert.ok(!facts.history.includes('processing'), at);
  }
  assert.equal(new Set(facts.history).size, facts.history.length, `a status was entered twice: ${at}`);
}

/** Asserts the owner's live media hold positions 0..n-1, each once. */
export async function assertGapless(api: InProcessApi, ownerId: string): Promise<void> {
  const { rows } = await api.database.db.execute<{ position: number }>(sql`
    select position from media where owner_id = ${ownerId} and status not in ('deleted', 'rejected')
     order by position`);
  assert.deepEqual(
    rows.map((r) => r.position),
    rows.map((_, i) => i),
  );
}
