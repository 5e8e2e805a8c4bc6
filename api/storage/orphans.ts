import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { hlsMaster, hlsMember } from '../../db/queries/object-refs.ts';

/**
 * What the orphan scan needs from storage. Proposed for the `ObjectStorage` port (ListObjectsV2 pages);
 * until it is there, callers pass any implementation.
 */
export interface KeyLister {
  listKeys(prefix: string): AsyncIterable<{ key: string; lastModified: Date }>;
}

/** Every prefix the platform writes under; anything else in the bucket is not ours to judge. */
const ownedPrefixes = ['raw/', 'derived/'];
const batchSize = 500;
const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Finds stored objects no row accounts for (a completion or delete that crashed halfway, a worker that
 * died between uploading derivatives and publishing its result) and queues them for the garbage sweeper,
 * which deletes them under its usual reference check. An object is left alone while it is younger than
 * `graceSeconds` or while the media its key names is still uploading or processing, because a worker
 * may be about to report it.
 */
export async function queueOrphans(db: Database, lister: KeyLister, graceSeconds: number): Promise<number> {
  const cutoff = Date.now() - graceSeconds * 1000;
  let queued = 0;
  for (const prefix of ownedPrefixes) {
    let batch: string[] = [];
    for await (const object of lister.listKeys(prefix)) {
      if (object.lastModified.getTime() > cutoff) continue;
      batch.push(object.key);
      if (batch.length === batchSize) {
        queued += await queueUnreferenced(db, batch);
        batch = [];
      }
    }
    queued += await queueUnreferenced(db, batch);
  }
  return queued;
}

async function queueUnreferenced(db: Database, keys: string[]): Promise<number> {
  if (keys.length === 0) return 0;
  // Keys are `raw/{mediaId}/…` or `derived/{mediaId}/…`; the id says whose work may still be in flight.
  const owners = keys.map((k) => {
    const id = k.split('/')[1] ?? '';
    return uuidShape.test(id) ? id : null;
  });
  const result = await db.execute<{ object_key: string }>(sql`
    insert into storage_garbage (object_key, delete_after)
    select c.key, now() from unnest(${sql.param(keys)}::text[], ${sql.param(owners)}::uuid[]) as c(key, media_id)
     cross join lateral (select regexp_replace(c.key, ${hlsMember}, ${hlsMaster}) as ref) r
     where not exists (
             select 1 from media m
              where m.object_key = c.key and m.status not in ('deleted', 'rejected'))
       and not exists (
             select 1 from media_variant v join media m on m.id = v.media_id
              where v.object_key = r.ref and m.status not in ('deleted', 'rejected'))
       and not exists (
             select 1 from media m
              where m.id = c.media_id and m.status in ('awaiting_upload', 'processing'))
    on conflict do nothing
    returning object_key`);
  return result.rows.length;
}
