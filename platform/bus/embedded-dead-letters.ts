import type PgBoss from 'pg-boss';
import { maxDeliveryAttempts } from './bus.ts';
import { type DeadLetter, type DeadLetterAdmin, redriveHeader } from './dead-letters.ts';

/** What the embedded bus stores as a job's data. */
export interface Envelope {
  id: string;
  key: string;
  type: string;
  headers: Record<string, string>;
  payload: unknown;
}

interface DeadJob {
  id: string;
  name: string;
  data: Envelope;
  output: { message?: string; stack?: string } | null;
  created_on: Date;
}

const defaultLimit = 100;

/**
 * Dead letters of the embedded bus are the jobs pg-boss moved to `<queue>.dlq` (a queue nobody works, so they
 * stay `created` until pg-boss's retention removes them). pg-boss has no call to list a queue's jobs without
 * taking them, so listing reads its job table; a redrive re-sends the envelope to the group's queue and then
 * deletes the dead job (a crash in between delivers it twice, which handlers absorb by event id).
 */
export function createEmbeddedDeadLetters(
  boss: PgBoss,
  schema: string,
  /** The topic's queues by group. */
  groupQueues: (topic: string) => Promise<Map<string, string>>,
): DeadLetterAdmin {
  /** Dead-letter queue → [group, queue]. */
  const deadQueues = async (topic: string, group: string | undefined) => {
    const byDlq = new Map<string, [string, string]>();
    for (const [g, queue] of await groupQueues(topic)) {
      if (group === undefined || g === group) byDlq.set(`${queue}.dlq`, [g, queue]);
    }
    return byDlq;
  };

  const deadJobs = async (dlqs: string[], ids: string[] | undefined, limit: number | null) => {
    const { rows } = await boss.getDb().executeSql(
      `select id, name, data, output, created_on from ${schema}.job
        where name = any($1) and state = 'created' and ($2::text[] is null or id::text = any($2))
        order by created_on, id limit $3`,
      [dlqs, ids ?? null, limit],
    );
    return rows as DeadJob[];
  };

  return {
    async listDeadLetters(topic, options = {}) {
      const dlqs = await deadQueues(topic, options.group);
      if (dlqs.size === 0) return [];
      const jobs = await deadJobs([...dlqs.keys()], undefined, options.limit ?? defaultLimit);
      return jobs.map((job): DeadLetter => {
        const [group] = dlqs.get(job.name) as [string, string];
        return {
          id: job.id,
          group,
          message: job.data,
          error: { message: job.output?.message ?? '', stack: job.output?.stack },
          attempts: maxDeliveryAttempts,
          failedAt: job.created_on,
        };
      });
    },

    async redrive(topic, options = {}) {
      const dlqs = await deadQueues(topic, options.group);
      if (dlqs.size === 0) return 0;
      const jobs = await deadJobs([...dlqs.keys()], options.ids, null);
      for (const job of jobs) {
        const data: Envelope = { ...job.data, headers: { ...job.data.headers, [redriveHeader]: job.id } };
        await boss.send((dlqs.get(job.name) as [string, string])[1], data);
        await boss.deleteJob(job.name, job.id);
      }
      return jobs.length;
    },
  };
}
