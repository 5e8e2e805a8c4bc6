import { pino } from 'pino';
import { createEmbeddedBus } from './embedded-bus.ts';

/**
 * For embedded-bus.test.ts: a process that takes messages and never finishes them, to be killed with
 * SIGKILL mid-job. Prints `took <id> <attempt>` for each message it starts.
 * Usage: node test-abandoning-subscriber.ts DATABASE_URL TOPIC_PREFIX TOPIC LEASE_SECONDS
 */
const [connectionString = '', topicPrefix = '', topic = '', leaseSeconds = '3'] = process.argv.slice(2);
const bus = await createEmbeddedBus({
  connectionString,
  topicPrefix,
  logger: pino({ level: 'silent' }),
  lease: { leaseSeconds: Number(leaseSeconds), stopTimeoutMs: 1000 },
});
await bus.subscribe(topic, 'g', (message) => {
  process.stdout.write(`took ${message.id} ${message.attempt}\n`);
  return new Promise(() => {});
});
process.stdout.write('subscribed\n');
