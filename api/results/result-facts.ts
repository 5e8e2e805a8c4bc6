import { sql } from 'drizzle-orm';
import type { MediaKind } from '../../contracts/media-types.ts';
import type { Database } from '../../db/client.ts';

export interface AppliedResultFacts {
  kind: MediaKind;
  /** The status the last transition left: `processing` for a first result, `ready`/`failed` for a reprocess. */
  fromStatus: string | null;
  /** From the completion that sent the media to processing to the last transition, by the database's clock. */
  secondsSinceCompletion: number | null;
}

/** What the funnel metrics need to know about a result just applied: two indexed lookups on media_event. */
export async function appliedResultFacts(
  db: Database,
  mediaId: string,
): Promise<AppliedResultFacts | undefined> {
  const { rows } = await db.execute<{
    kind: MediaKind;
    from_status: string | null;
    seconds: number | null;
  }>(sql`
    select m.kind, last.from_status, extract(epoch from last.at - completed.at)::float8 as seconds
      from media m
      join lateral (select from_status, at from media_event e where e.media_id = m.id
                     order by e.at desc, e.id desc limit 1) last on true
      left join lateral (select at from media_event e where e.media_id = m.id and e.to_status = 'processing'
                          order by e.at desc, e.id desc limit 1) completed on true
     where m.id = ${mediaId}`);
  const row = rows[0];
  return row && { kind: row.kind, fromStatus: row.from_status, secondsSinceCompletion: row.seconds };
}
