import { type Admin, Kafka, type logCreator, logLevel } from 'kafkajs';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { BusBacklog } from './backlog.ts';
import type { Bus, Subscription } from './bus.ts';
import type { DeadLetterAdmin } from './dead-letters.ts';
import { createKafkaBacklog } from './kafka-backlog.ts';
import { kafkaConnection } from './kafka-connection.ts';
import { createKafkaDeadLetters } from './kafka-dead-letters.ts';
import { createRecordPublisher } from './kafka-producer.ts';
import { toRecord } from './kafka-records.ts';
import { reconnecting } from './kafka-retry.ts';
import { startKafkaSubscription } from './kafka-subscription.ts';
import { createTopicEnsurer, kafkaGroupId, topicNames } from './kafka-topics.ts';

export interface KafkaBusOptions {
  /** First retry delay (default: the configured one); each further retry doubles it. */
  retryBaseDelayMs?: number;
  /** Longest a fetch waits for data; also how late a resumed partition may be fetched again. */
  fetchMaxWaitMs?: number;
  /** How long `close()` waits for running handlers before leaving them to be redelivered elsewhere. */
  shutdownTimeoutMs?: number;
}

/**
 * The bus over Apache Kafka (kafkajs). Topic `t` is `<prefix>t`, with `<prefix>t.retry.1`…`.retry.4` and
 * `<prefix>t.dlq` beside it, all created on first use. Records carry the payload as JSON, the message key as
 * the Kafka key (per-key order within a partition) and the event id and type as headers next to the message's
 * own headers. Subscriptions are described in `kafka-subscription.ts`.
 */
export async function createKafkaBus(
  config: Config['kafka'],
  logger: Logger,
  options: KafkaBusOptions = {},
): Promise<Bus & DeadLetterAdmin & BusBacklog> {
  if (config.heartbeatIntervalMs >= config.sessionTimeoutMs) {
    throw new Error(
      'Invalid configuration: KAFKA_HEARTBEAT_INTERVAL_MS must be below KAFKA_SESSION_TIMEOUT_MS (a third of it is usual)',
    );
  }
  const connection = kafkaConnection(config);
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ...connection,
    logLevel: logLevel.WARN,
    logCreator: toPino(logger),
    retry: reconnecting(config.reconnectMaxDelayMs, 5),
  });
  // Topic administration reports its failures as exceptions; its log would only repeat the NOT_LEADER answers
  // that the readiness probe for new topics expects.
  const admin = connectOnFirstUse(
    new Kafka({
      clientId: config.clientId,
      brokers: config.brokers,
      ...connection,
      logLevel: logLevel.NOTHING,
      retry: reconnecting(config.reconnectMaxDelayMs, 5),
    }).admin(),
  );
  const ensureTopics = createTopicEnsurer(admin, config);
  const names = (topic: string) => topicNames(config.topicPrefix, topic);
  const allNames = (topic: string) => {
    const n = names(topic);
    return [n.main, ...n.retries, n.dlq];
  };
  const publisher = createRecordPublisher(kafka, config.reconnectMaxDelayMs, logger);
  const subscriptions = new Set<Subscription>();

  return {
    kind: 'kafka',

    async publish(topic, messages) {
      if (messages.length === 0) return;
      await ensureTopics(allNames(topic));
      await publisher.send([{ topic: names(topic).main, messages: messages.map(toRecord) }]);
    },

    async subscribe(topic, group, handler, subscribeOptions = {}) {
      await ensureTopics(allNames(topic));
      const subscription = await startKafkaSubscription(
        kafka,
        publisher,
        handler,
        {
          topic,
          group,
          groupId: kafkaGroupId(config.topicPrefix, topic, group),
          names: names(topic),
          concurrency: subscribeOptions.concurrency ?? 1,
          retryBaseDelayMs: options.retryBaseDelayMs ?? config.retryBaseDelayMs,
          sessionTimeoutMs: config.sessionTimeoutMs,
          heartbeatIntervalMs: config.heartbeatIntervalMs,
          rebalanceTimeoutMs: config.rebalanceTimeoutMs,
          reconnectMaxDelayMs: config.reconnectMaxDelayMs,
          fetchMaxWaitMs: options.fetchMaxWaitMs ?? 500,
          shutdownTimeoutMs: options.shutdownTimeoutMs ?? 30_000,
        },
        logger,
      );
      subscriptions.add(subscription);
      return {
        state: subscription.state,
        async stop() {
          subscriptions.delete(subscription);
          await subscription.stop();
        },
      };
    },

    async close() {
      // Subscriptions first: a handler that fails while they drain still needs the producer for its retry.
      await Promise.all([...subscriptions].map((s) => s.stop()));
      subscriptions.clear();
      await publisher.close();
      await admin.disconnect();
    },

    ...createKafkaDeadLetters({ kafka, admin, publisher, names, ensureTopics }),
    ...createKafkaBacklog(admin, names),
  };
}

// The producer bounds its retries on purpose (see kafka-producer.ts); kafkajs warns about that on every start.
const boundedRetriesWarning = 'Limiting retries for the idempotent producer may invalidate EoS guarantees';

/** kafkajs logs at warn and error only, into the process's pino logger. */
function toPino(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, timestamp: _timestamp, logger: _logger, ...detail } = log;
      if (message.includes(boundedRetriesWarning)) return;
      const fields = { kafkajs: namespace, ...detail };
      if (level === logLevel.ERROR) logger.error(fields, message);
      else logger.warn(fields, message);
    };
}

/**
 * The admin connects when first used, not at start: a role comes up and listens while the broker is still
 * down, and its consumers and publishes retry until the broker answers.
 */
function connectOnFirstUse(admin: Admin): Admin {
  let connecting: Promise<void> | undefined;
  const connect = () => {
    connecting ??= admin.connect().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };
  const passThrough = new Set<PropertyKey>(['connect', 'disconnect', 'on', 'logger', 'events']);
  return new Proxy(admin, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || passThrough.has(property)) return value;
      return async (...args: unknown[]) => {
        await connect();
        return value.apply(target, args);
      };
    },
  });
}
