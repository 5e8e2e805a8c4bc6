import PgBoss from 'pg-boss';
import type { Logger } from '../logger.ts';
import {
  type Bus,
  type BusMessage,
  type MessageHandler,
  maxDeliveryAttempts,
  type Subscription,
} from './bus.ts';

interface Envelope {
  id: string;
  key: string;
  type: string;
  headers: Record<string, string>;
  payload: unknown;
}

/**
 * The embedded bus: pg-boss queues in the platform's own PostgreSQL, for `mediagate dev` and single-node
 * installs. Each (topic, group) is a queue subscribed to the topic, so every group sees every message, as
 * with Kafka consumer groups. pg-boss gives retries with backoff and a dead-letter queue; it does not keep
 * per-key order, which the consumers do not rely on (they judge by status and event id).
 */
export async function createEmbeddedBus(options: {
  connectionString: string;
  topicPrefix: string;
  logger: Logger;
}): Promise<Bus> {
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: 'bus',
    max: 4,
    schedule: false,
  });
  boss.on('error', (error: unknown) => options.logger.error({ err: error }, 'embedded bus error'));
  await boss.start();
  const name = (topic: string) => `${options.topicPrefix}${topic}`;

  return {
    kind: 'embedded',

    async publish(topic, messages: BusMessage[]) {
      for (const message of messages) {
        const envelope: Envelope = {
          id: message.id,
          key: message.key,
          type: message.type,
          headers: message.headers,
          payload: message.payload,
        };
        await boss.publish(name(topic), envelope);
      }
    },

    async subscribe(topic, group, handler: MessageHandler, subscribeOptions = {}): Promise<Subscription> {
      const queue = `${name(topic)}.${group}`;
      const deadLetter = `${queue}.dlq`;
      await boss.createQueue(deadLetter).catch(ignoreExists);
      await boss
        .createQueue(queue, {
          retryLimit: maxDeliveryAttempts - 1,
          retryDelay: 1,
          retryBackoff: true,
          expireInSeconds: 6 * 3600,
          deadLetter,
        })
        .catch(ignoreExists);
      await boss.subscribe(name(topic), queue);
      const ids: string[] = [];
      for (let i = 0; i < (subscribeOptions.concurrency ?? 1); i++) {
        const id = await boss.work<Envelope>(
          queue,
          { batchSize: 1, pollingIntervalSeconds: 0.5, includeMetadata: true },
          async ([job]) => {
            if (!job) return;
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
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}

function ignoreExists(error: unknown): void {
  if (!(error instanceof Error && /already exists/i.test(error.message))) throw error;
}
