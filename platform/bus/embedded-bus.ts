import PgBoss from 'pg-boss';
import type { Logger } from '../logger.ts';
import type { BusBacklog } from './backlog.ts';
import {
  type Bus,
  type BusMessage,
  type MessageHandler,
  maxDeliveryAttempts,
  type Subscription,
} from './bus.ts';
import type { DeadLetterAdmin } from './dead-letters.ts';
import { createEmbeddedBacklog } from './embedded-backlog.ts';
import { createEmbeddedDeadLetters } from './embedded-dead-letters.ts';
import { publishToQueues } from './embedded-publish.ts';
import {
  defaultIdlePollMs,
  defaultLease,
  type EmbeddedSubscription,
  type LeaseSettings,
  startEmbeddedSubscription,
} from './embedded-subscription.ts';
import { listenForPublishes, publishChannel } from './embedded-wakeup.ts';

const schema = 'bus';

/**
 * The embedded bus: pg-boss queues in the platform's own PostgreSQL, for `mediagate dev` and single-node
 * installs. Each (topic, group) is a queue subscribed to the topic, so every group sees every message, as
 * with Kafka consumer groups. pg-boss gives retries with backoff and a dead-letter queue per queue
 * (`<queue>.dlq`); it does not keep per-key order, which the consumers do not rely on (they judge by status
 * and event id). A job is leased to the process running it (embedded-subscription.ts): a stop hands it back
 * at once, a crash within the lease's bound. A publish wakes one idle fetch loop of each subscription to the
 * queue in every process (embedded-wakeup.ts); a loop that finds a message wakes the next.
 */
export async function createEmbeddedBus(options: {
  connectionString: string;
  topicPrefix: string;
  logger: Logger;
  /**
   * First retry delay (default 1 s). pg-boss counts whole seconds: from 1 s on it backs off exponentially on
   * its own curve (base + 2^n·(1..2) s); below 1 s every retry comes after a constant second.
   */
  retryBaseDelayMs?: number;
  /** Tests shorten the lease to see a crash recovered in seconds. */
  lease?: LeaseSettings;
  /** How long an idle subscriber waits before looking again when nothing wakes it (default 500 ms). */
  idlePollMs?: number;
}): Promise<Bus & DeadLetterAdmin & BusBacklog> {
  const lease = options.lease ?? defaultLease;
  // The supervisor retries jobs whose lease ran out; it looks as often as leases are renewed.
  const superviseSeconds = Math.max(1, Math.round(lease.leaseSeconds / 3));
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema,
    max: 4,
    schedule: false,
    superviseIntervalSeconds: superviseSeconds,
    monitorIntervalSeconds: superviseSeconds,
  });
  const subscriptions = new Map<string, Set<EmbeddedSubscription>>();
  let closing = false;
  // pg-boss attaches the whole pg client to its errors and repeats one per poll while the database is away;
  // one concise line per distinct failure a minute is what an operator can read. Once close() has begun,
  // connections ending are the shutdown itself, not a fault.
  let lastError = '';
  let lastErrorAt = 0;
  const report = (error: unknown) => {
    const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
    const summary = `${String(message ?? error)}${typeof code === 'string' ? ` (${code})` : ''}`;
    if (closing || (summary === lastError && Date.now() - lastErrorAt < 60_000)) return;
    lastError = summary;
    lastErrorAt = Date.now();
    options.logger.error({ err: { message: String(message ?? error), code } }, 'embedded bus error');
  };
  boss.on('error', report);
  await boss.start();
  const wakeSubscribers = (queue: string, count: number) => {
    for (const subscription of subscriptions.get(queue) ?? []) subscription.wake(count);
  };
  const listener = await listenForPublishes(options.connectionString, wakeSubscribers, report);
  const name = (topic: string) => `${options.topicPrefix}${topic}`;
  const baseDelayMs = options.retryBaseDelayMs ?? 1000;
  const queueOf = (topic: string, group: string) => `${name(topic)}.${group}`;
  /** The topic's queues (one per subscribed group) by group. */
  const groupQueues = async (topic: string): Promise<Map<string, string>> => {
    const { rows } = await boss
      .getDb()
      .executeSql(`select name from ${schema}.subscription where event = $1`, [name(topic)]);
    const prefix = queueOf(topic, '');
    return new Map(rows.map((r: { name: string }) => [r.name.slice(prefix.length), r.name]));
  };

  return {
    kind: 'embedded',

    // Not boss.publish: it swallows failed inserts (Promise.allSettled), and a publish must only resolve once
    // every subscribed queue holds the messages. One statement does it all (embedded-publish.ts).
    async publish(topic, messages: BusMessage[]) {
      if (messages.length === 0) return;
      const queues = await publishToQueues(boss, schema, name(topic), messages, {
        channel: publishChannel,
        origin: listener.origin,
      });
      for (const queue of queues) wakeSubscribers(queue, messages.length);
    },

    async subscribe(topic, group, handler: MessageHandler, subscribeOptions = {}): Promise<Subscription> {
      const queue = queueOf(topic, group);
      const deadLetter = `${queue}.dlq`;
      await boss.createQueue(deadLetter).catch(ignoreExists);
      const settings = {
        retryLimit: maxDeliveryAttempts - 1,
        retryDelay: Math.max(1, Math.round(baseDelayMs / 1000)),
        retryBackoff: baseDelayMs >= 1000,
        expireInSeconds: lease.leaseSeconds,
        deadLetter,
      };
      // Copies: pg-boss writes its defaults into the object it is given.
      await boss.createQueue(queue, { ...settings }).catch(ignoreExists);
      // Queues made before leases existed expired their jobs after 6 hours: they take today's policy, and
      // jobs a crashed process left active under it expire within one lease from now.
      await boss.updateQueue(queue, { ...settings });
      await boss.getDb().executeSql(
        `update ${schema}.job set expire_seconds = ceil(extract(epoch from now() - started_on))::int + $2
            where name = $1 and state = 'active' and expire_seconds > $2`,
        [queue, lease.leaseSeconds],
      );
      await boss.subscribe(name(topic), queue);
      const subscription = startEmbeddedSubscription({
        boss,
        schema,
        queue,
        topic,
        handler,
        concurrency: subscribeOptions.concurrency ?? 1,
        idlePollMs: options.idlePollMs ?? defaultIdlePollMs,
        lease,
        report,
      });
      const forQueue = subscriptions.get(queue) ?? new Set();
      subscriptions.set(queue, forQueue.add(subscription));
      return {
        async stop() {
          await subscription.stop();
          forQueue.delete(subscription);
        },
      };
    },

    async close() {
      // Subscriptions left open hand their jobs back before the connections go.
      await Promise.all([...subscriptions.values()].flatMap((set) => [...set].map((s) => s.stop())));
      closing = true;
      await listener.close();
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },

    ...createEmbeddedDeadLetters(boss, schema, groupQueues),
    ...createEmbeddedBacklog(boss, schema, groupQueues),
  };
}

function ignoreExists(error: unknown): void {
  if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
}
