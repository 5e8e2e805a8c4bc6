import { setTimeout as sleep } from 'node:timers/promises';
import type PgBoss from 'pg-boss';
import type { MessageHandler, Subscription } from './bus.ts';
import type { Envelope } from './embedded-dead-letters.ts';
import { createIdleLoops } from './embedded-idle-loops.ts';

/**
 * How long a job stays with the process that took it without news from that process. The subscription renews
 * the lease of every job it runs every third of it, so a live process keeps its jobs however long they take;
 * a process that died (kill -9, power loss) stops renewing, and pg-boss's supervisor, which looks every third
 * of the lease too, retries its jobs. A killed process's jobs are therefore back on the queue at most
 * `lease + lease/3` after its last renewal, plus the first retry's delay (30 s → within 45 s).
 */
export interface LeaseSettings {
  leaseSeconds: number;
  /** How long stop() waits for running handlers before handing their jobs back anyway. */
  stopTimeoutMs: number;
}

export const defaultLease: LeaseSettings = { leaseSeconds: 30, stopTimeoutMs: 10_000 };

/** A backstop: publishes wake idle subscribers, in this process and through PostgreSQL in the others. */
export const defaultIdlePollMs = 500;

export interface EmbeddedSubscription extends Subscription {
  /** `count` messages were published to the queue: as many idle loops fetch now instead of at the next poll. */
  wake(count: number): void;
}

/**
 * Works one pg-boss queue with `concurrency` fetch loops. Idle loops cost the database one fetch per poll
 * interval per queue, not per loop (the webhook fan-out has 16 loops): see createIdleLoops. Not pg-boss's own `work()`: it fails a handler that
 * outlives the job's expiry while the handler goes on running, and it cannot hand a job back without counting
 * an attempt. Here the expiry is a lease the running process renews, and a stop hands the jobs still running
 * back to the queue at once, as they were: the next process starts them as the same attempt.
 */
export function startEmbeddedSubscription(options: {
  boss: PgBoss;
  schema: string;
  queue: string;
  topic: string;
  handler: MessageHandler;
  concurrency: number;
  idlePollMs: number;
  lease: LeaseSettings;
  /** Database failures of the loop itself (fetching, settling, renewing): the job's lease covers them. */
  report: (error: unknown) => void;
}): EmbeddedSubscription {
  const { boss, queue, lease, report } = options;
  const jobTable = `${options.schema}.job`;
  /** Jobs this process runs; `abandoned` once stop() gave up waiting and handed them back. */
  const running = new Map<string, { abandoned: boolean }>();
  let stopping = false;
  const idleLoops = createIdleLoops(options.idlePollMs);

  const renew = async () => {
    if (running.size === 0) return;
    await boss.getDb().executeSql(
      `update ${jobTable} set expire_seconds = ceil(extract(epoch from now() - started_on))::int + $3
        where name = $1 and id = any($2::uuid[]) and state = 'active'`,
      [queue, [...running.keys()], lease.leaseSeconds],
    );
  };
  /** Back to the queue as they were: `started_on` cleared, so pg-boss does not count the next fetch a retry. */
  const handBack = async (ids: string[]) => {
    if (ids.length === 0) return;
    await boss.getDb().executeSql(
      `update ${jobTable} set state = 'retry', started_on = null, start_after = now()
        where name = $1 and id = any($2::uuid[]) and state = 'active'`,
      [queue, ids],
    );
  };
  const renewals = setInterval(() => renew().catch(report), (lease.leaseSeconds * 1000) / 3);
  renewals.unref();

  const run = async (job: PgBoss.JobWithMetadata<Envelope>) => {
    const entry = { abandoned: false };
    running.set(job.id, entry);
    let settle: () => Promise<unknown>;
    try {
      await options.handler({ ...job.data, topic: options.topic, attempt: job.retryCount + 1 });
      settle = () => boss.complete(queue, job.id);
    } catch (error) {
      // A handler that fails while the process stops was most likely stopped: not the message's fault.
      settle = stopping ? () => handBack([job.id]) : () => boss.fail(queue, job.id, error as object);
    } finally {
      running.delete(job.id);
    }
    if (entry.abandoned) return;
    // Unsettled (database away), the job stays active until its lease runs out, then it is retried.
    await settle().catch(report);
  };

  const loop = async () => {
    // A loop a publish woke leaves the rest of that publish to the loops it woke with it; after any other wake
    // there may be more that nobody counted, so a claim wakes the next loop.
    let wokenByPublish = false;
    while (!stopping) {
      let job: PgBoss.JobWithMetadata<Envelope> | undefined;
      idleLoops.fetching();
      try {
        [job] = await boss.fetch<Envelope>(queue, { batchSize: 1, includeMetadata: true });
      } catch (error) {
        if (!stopping) report(error);
      }
      if (job) {
        if (!wokenByPublish) idleLoops.wakeOne();
        wokenByPublish = false;
        await run(job);
      } else if (!stopping) wokenByPublish = (await idleLoops.idle()) === 'published';
    }
  };
  const loops = Array.from({ length: options.concurrency }, loop);

  let stopped: Promise<void> | undefined;
  const stop = async () => {
    stopping = true;
    idleLoops.wakeAll();
    const finished = await Promise.race([
      Promise.all(loops).then(() => true),
      sleep(lease.stopTimeoutMs, false, { ref: false }),
    ]);
    clearInterval(renewals);
    if (finished) return;
    const ids = [...running.keys()];
    for (const entry of running.values()) entry.abandoned = true;
    await handBack(ids).catch(report);
  };
  return {
    wake: idleLoops.published,
    stop() {
      stopped ??= stop();
      return stopped;
    },
  };
}
