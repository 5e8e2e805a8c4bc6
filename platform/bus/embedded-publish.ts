import type PgBoss from 'pg-boss';
import { type BusMessage, JsonText } from './bus.ts';

/**
 * A publish in one statement: the topic's queues (one per subscribed group), the messages inserted into each
 * with that queue's policy, and the notification that wakes the other processes' subscribers, delivered at
 * commit, so never before the jobs can be seen. It was three round trips and one more per queue (the
 * subscription lookup, an insert per queue, the notify), three publishes on every photo's way to ready.
 *
 * The insert is pg-boss 11's own (`insertJobs` in its plans.js) with the defaults it leaves to the queue, for
 * every queue at once; unlike it, a conflicting job fails the publish instead of being dropped unseen.
 */
function publishSql(schema: string): string {
  return `
    with queues as (
      select q.name, q.policy, q.retry_limit, q.retry_delay, q.retry_backoff, q.retry_delay_max,
             q.expire_seconds, q.deletion_seconds, q.retention_seconds, q.dead_letter
        from ${schema}.subscription s join ${schema}.queue q on q.name = s.name
       where s.event = $1
    ), inserted as (
      insert into ${schema}.job (id, name, data, priority, start_after, expire_seconds, deletion_seconds,
                                 keep_until, retry_limit, retry_delay, retry_backoff, retry_delay_max, policy,
                                 dead_letter)
      select gen_random_uuid(), q.name, m.data, 0, now(), q.expire_seconds, q.deletion_seconds,
             now() + q.retention_seconds * interval '1s', q.retry_limit, q.retry_delay, q.retry_backoff,
             q.retry_delay_max, q.policy, q.dead_letter
        from queues q cross join jsonb_array_elements($2::jsonb) with ordinality as m(data, n)
       order by q.name, m.n
    )
    select coalesce(array_agg(name order by name), '{}') as queues,
           case when count(*) > 0
                then pg_notify($3, $4 || E'\\n' || string_agg(name || E'\\t' || $5::int, E'\\n' order by name))
           end as notified
      from queues`;
}

/**
 * The envelopes as one JSON array. A payload that is already JSON text (the outbox relay's) goes in as that
 * text: parsing it only to have it encoded again cost the relay's process a parse and a stringify per event.
 */
function envelopesJson(messages: BusMessage[]): string {
  const envelopes = messages.map((m) => {
    const head = JSON.stringify({ id: m.id, key: m.key, type: m.type, headers: m.headers });
    const payload = m.payload instanceof JsonText ? m.payload.text : JSON.stringify(m.payload ?? null);
    return `${head.slice(0, -1)},"payload":${payload}}`;
  });
  return `[${envelopes.join(',')}]`;
}

/**
 * Inserts `messages` into every queue subscribed to `event` and notifies `channel` with `origin` and, one per
 * line, each queue's name and how many messages it received (embedded-wakeup.ts); resolves to the queues'
 * names once the jobs are committed.
 */
export async function publishToQueues(
  boss: PgBoss,
  schema: string,
  event: string,
  messages: BusMessage[],
  notify: { channel: string; origin: string },
): Promise<string[]> {
  const { rows } = await boss
    .getDb()
    .executeSql(publishSql(schema), [
      event,
      envelopesJson(messages),
      notify.channel,
      notify.origin,
      messages.length,
    ]);
  return (rows[0] as { queues: string[] } | undefined)?.queues ?? [];
}
