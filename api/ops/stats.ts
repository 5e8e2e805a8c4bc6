import { sql } from 'drizzle-orm';
import type { Stats, StatsQuery } from '../../contracts/stats.ts';
import type { Database } from '../../db/client.ts';

/** Figures operators watch: what storage holds and saves, how much arrives, how processing is doing. */
export async function platformStats(db: Database, query: StatsQuery): Promise<Stats> {
  const windowHours = query.windowHours ?? 24;
  const [storage, uploadsPerDay, processing] = await Promise.all([
    storageFigures(db),
    uploadsByDay(db),
    processingHealth(db, windowHours),
  ]);
  return { storage, uploadsPerDay, processing: { windowHours, ...processing } };
}

/**
 * Objects live media keep: originals and variants, counted once per physical key. Every reference to a
 * key beyond its first is a copy dedupe avoided storing.
 */
async function storageFigures(db: Database): Promise<Stats['storage']> {
  const { rows } = await db.execute<{ objects: number; stored: string; saved: string }>(sql`
    with refs as (
      select m.object_key as key, m.size_bytes as bytes from media m
       where m.status in ('processing', 'ready', 'failed')
      union all
      select v.object_key, v.bytes from media_variant v join media m on m.id = v.media_id
       where m.status in ('processing', 'ready', 'failed')
    ), objects as (
      select key, max(bytes) as bytes, count(*) as refs from refs group by key
    )
    select count(*)::int as objects,
           coalesce(sum(bytes), 0)::bigint as stored,
           coalesce(sum(bytes * (refs - 1)), 0)::bigint as saved
      from objects`);
  const row = rows[0];
  return {
    objects: row?.objects ?? 0,
    bytesStored: Number(row?.stored ?? 0),
    bytesSavedByDedupe: Number(row?.saved ?? 0),
  };
}

async function uploadsByDay(db: Database): Promise<Stats['uploadsPerDay']> {
  const { rows } = await db.execute<Stats['uploadsPerDay'][number]>(sql`
    select to_char((created_at at time zone 'UTC')::date, 'YYYY-MM-DD') as day, kind, count(*)::int as uploads
      from media
     where created_at >= (now() at time zone 'UTC')::date - 29
     group by 1, 2
     order by 1, 2`);
  return rows;
}

/**
 * Media that finished processing in the window: time from entering `processing` to `ready`, and the
 * share that failed. Instant copies never process, so they count in neither.
 */
async function processingHealth(
  db: Database,
  windowHours: number,
): Promise<Omit<Stats['processing'], 'windowHours'>> {
  const { rows } = await db.execute<{
    ready: number;
    failed: number;
    p50: number | null;
    p95: number | null;
  }>(
    sql`
    with finished as (
      select e.to_status,
             extract(epoch from e.at - (
               select max(p.at) from media_event p
                where p.media_id = e.media_id and p.to_status = 'processing' and p.at <= e.at
             )) as seconds
        from media_event e
       where e.from_status = 'processing' and e.to_status in ('ready', 'failed')
         and e.at > now() - make_interval(hours => ${windowHours})
    )
    select count(*) filter (where to_status = 'ready')::int as ready,
           count(*) filter (where to_status = 'failed')::int as failed,
           percentile_cont(0.5) within group (order by seconds) filter (where to_status = 'ready') as p50,
           percentile_cont(0.95) within group (order by seconds) filter (where to_status = 'ready') as p95
      from finished`,
  );
  const row = rows[0];
  const ready = row?.ready ?? 0;
  const failed = row?.failed ?? 0;
  return {
    ready,
    failed,
    failureRate: ready + failed === 0 ? null : failed / (ready + failed),
    timeToReadySeconds: { p50: row?.p50 ?? null, p95: row?.p95 ?? null },
  };
}
