import { sql } from 'drizzle-orm';
import type { Timeseries, TimeseriesQuery } from '../../contracts/ops.ts';
import type { Database } from '../../db/client.ts';

interface Row extends Record<string, unknown> {
  at: string;
  created: number;
  processing: number;
  ready: number;
  failed: number;
  rejected: number;
  p50: number | null;
  p95: number | null;
}

/**
 * The upload funnel over time from the media history: media created, uploads that passed the gate into
 * processing, and what processing ended in, per bucket. Time to ready runs from the latest move to
 * processing before the ready, as GET /v1/ops/stats measures it, so the chart and the figure agree.
 */
export async function funnelTimeseries(db: Database, query: TimeseriesQuery): Promise<Timeseries> {
  const hours = query.hours ?? 24;
  const bucketSeconds = (query.bucketMinutes ?? 60) * 60;
  const { rows } = await db.execute<Row>(sql`
    with buckets as (
      select generate_series(
               to_timestamp(floor(extract(epoch from now() - make_interval(hours => ${hours})) / ${bucketSeconds}) * ${bucketSeconds}),
               now(),
               make_interval(secs => ${bucketSeconds})
             ) as at
    ),
    moves as (
      select to_timestamp(floor(extract(epoch from e.at) / ${bucketSeconds}) * ${bucketSeconds}) as at,
             e.to_status, e.from_status,
             case when e.to_status = 'ready' and e.from_status = 'processing' then extract(epoch from e.at - (
               select max(p.at) from media_event p
                where p.media_id = e.media_id and p.to_status = 'processing' and p.at <= e.at
             )) end as seconds
        from media_event e
       where e.at >= now() - make_interval(hours => ${hours}) - make_interval(secs => ${bucketSeconds})
    ),
    created as (
      select to_timestamp(floor(extract(epoch from created_at) / ${bucketSeconds}) * ${bucketSeconds}) as at,
             count(*)::int as n
        from media
       where created_at >= now() - make_interval(hours => ${hours}) - make_interval(secs => ${bucketSeconds})
       group by 1
    )
    select to_char(b.at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as at,
           coalesce(c.n, 0) as created,
           count(m.*) filter (where m.to_status = 'processing' and m.from_status = 'awaiting_upload')::int as processing,
           count(m.*) filter (where m.to_status = 'ready')::int as ready,
           count(m.*) filter (where m.to_status = 'failed')::int as failed,
           count(m.*) filter (where m.to_status = 'rejected')::int as rejected,
           percentile_cont(0.5) within group (order by m.seconds) as p50,
           percentile_cont(0.95) within group (order by m.seconds) as p95
      from buckets b
      left join moves m on m.at = b.at
      left join created c on c.at = b.at
     group by b.at, c.n
     order by b.at`);
  return {
    bucketSeconds,
    points: rows.map((r) => ({
      at: r.at,
      created: r.created,
      processing: r.processing,
      ready: r.ready,
      failed: r.failed,
      rejected: r.rejected,
      timeToReadyP50: r.p50,
      timeToReadyP95: r.p95,
    })),
  };
}
