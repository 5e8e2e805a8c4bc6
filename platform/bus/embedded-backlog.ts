import type PgBoss from 'pg-boss';
import type { BusBacklog, ConsumerLag } from './backlog.ts';

/** The embedded bus's lag is each group's queue: jobs waiting for a first delivery or for a retry. */
export function createEmbeddedBacklog(
  boss: PgBoss,
  schema: string,
  groupQueues: (topic: string) => Promise<Map<string, string>>,
): BusBacklog {
  return {
    async consumerLag(topics) {
      const lag: ConsumerLag[] = [];
      for (const topic of topics) {
        const queues = await groupQueues(topic);
        if (queues.size === 0) continue;
        const { rows } = await boss.getDb().executeSql(
          `select name, count(*)::int as n from ${schema}.job
            where name = any($1) and state in ('created', 'retry') group by name`,
          [[...queues.values()]],
        );
        const waiting = new Map((rows as { name: string; n: number }[]).map((r) => [r.name, r.n]));
        for (const [group, queue] of queues) {
          lag.push({ topic, group, partition: 0, messages: waiting.get(queue) ?? 0 });
        }
      }
      return lag;
    },
  };
}
