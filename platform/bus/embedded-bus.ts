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
import { createEmbeddedDeadLetters, type Envelope } from './embedded-dead-letters.ts';

const schema = 'bus';

/**
 * The embedded bus: pg-boss queues in the platform's own PostgreSQL, for `mediagate dev` and single-node
 * installs. Each (topic, group) is a queue subscribed to the topic, so every group sees every message, as
 * with Kafka consumer groups. pg-boss gives retries with backoff and a dead-letter queue per queue
 * (`<queue>.dlq`); it does not keep per-key order, which the consumers do not rely on (they judge by status
 * and event id).
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
}): Promise<Bus & DeadLetterAdmin & BusBacklog> {
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema,
    max: 4,
    schedule: false,
  });
  let closing = false;
  // pg-boss attaches the whole pg client to its errors and repeats one per poll while the database is away;
  // one concise line per distinct failure a minute is what an operator can read. Once close() has begun,
  // connections ending are the shutdown itself, not a fault.
  let lastError = '';
  let lastErrorAt = 0;
  boss.on('error', (error: unknown) => {
    const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
    const summary = `${String(message ?? error)}${typeof code === 'string' ? ` (${code})` : ''}`;
    if (closing || (summary === lastError && Date.now() - lastErrorAt < 60_000)) return;
    lastError = summary;
    lastErrorAt = Date.now();
    options.logger.error({ err: { message: String(message ?? error), code } }, 'embedded bus error');
  });
  await boss.start();
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
    // every subscribed queue holds the messages. One multi-row insert per queue also saves round trips.
    async publish(topic, messages: BusMessage[]) {
      if (messages.length === 0) return;
      const jobs = messages.map((m) => ({
        data: {
          id: m.id,
          key: m.key,
          type: m.type,
          headers: m.headers,
          payload: m.payload,
        } satisfies Envelope,
      }));
      for (const queue of (await groupQueues(topic)).values()) {
        await boss.insert(
          queue,
          jobs.map((job) => ({ ...job, name: queue })),
        );
      }
    },

    async subscribe(topic, group, handler: MessageHandler, subscribeOptions = {}): Promise<Subscription> {
      const queue = queueOf(topic, group);
      const deadLetter = `${queue}.dlq`;
      await boss.createQueue(deadLetter).catch(ignoreExists);
      await boss
        .createQueue(queue, {
          retryLimit: maxDeliveryAttempts - 1,
          retryDelay: Math.max(1, Math.round(baseDelayMs / 1000)),
          retryBackoff: baseDelayMs >= 1000,
          expireInSeconds: 6 * 3600,
          deadLetter,
        })
        .catch(ignoreExists);
      await boss.subscribe(name(topic), queue);
      const ids: string[] = [];
      for (let i = 0; i < (subscribeOptions.concurrency ?? 1); i++) {
        let id: string | undefined;
        id = await boss.work<Envelope>(
          queue,
          { batchSize: 1, pollingIntervalSeconds: 0.5, includeMetadata: true },
          async ([job]) => {
            if (!job) return;
            // A pg-boss worker sleeps out its polling interval after every job, even with more waiting (two
            // jobs a second per worker); a worker that just got one fetches again at once.
            if (id) boss.notifyWorker(id);
            await handler({ ...job.data, topic, attempt: job.retryCount + 1 });
          },
        );
        ids.push(id);
      }
      return {
        async stop() {
          for (const id of ids) await boss.offWork({ id });
        },
      };
    },

    async close() {
      closing = true;
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },

    ...createEmbeddedDeadLetters(boss, schema, groupQueues),
    ...createEmbeddedBacklog(boss, schema, groupQueues),
  };
}

function ignoreExists(error: unknown): void {
  if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
}
