import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Bus } from './bus.ts';
import { createEmbeddedBus } from './embedded-bus.ts';

/** The embedded bus in the platform's PostgreSQL. */
export async function createBus(config: Config, logger: Logger): Promise<Bus> {
  if (!config.databaseUrl) throw new Error('Missing configuration: the embedded bus needs DATABASE_URL');
  return createEmbeddedBus({
    connectionString: config.databaseUrl,
    topicPrefix: config.kafka.topicPrefix,
    logger,
  });
}
