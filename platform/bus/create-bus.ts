import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { BusBacklog } from './backlog.ts';
import type { Bus } from './bus.ts';
import type { DeadLetterAdmin } from './dead-letters.ts';
import { createEmbeddedBus } from './embedded-bus.ts';
import { createKafkaBus } from './kafka-bus.ts';

/** Kafka when KAFKA_BROKERS is set, otherwise the embedded bus in the platform's PostgreSQL. */
export async function createBus(config: Config, logger: Logger): Promise<Bus & DeadLetterAdmin & BusBacklog> {
  if (config.kafka.brokers.length > 0) return createKafkaBus(config.kafka, logger);
  if (!config.databaseUrl) {
    throw new Error(
      'Missing configuration: the bus needs KAFKA_BROKERS, or DATABASE_URL for the embedded bus',
    );
  }
  return createEmbeddedBus({
    connectionString: config.databaseUrl,
    topicPrefix: config.kafka.topicPrefix,
    retryBaseDelayMs: config.kafka.retryBaseDelayMs,
    logger,
  });
}
