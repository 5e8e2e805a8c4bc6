// Local Kafka for development: `node deploy/kafka/main.ts [--port 9092]`, or `--fetch-only` to warm the cache.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CACHE_DIR, ensureKafkaArtifacts, KAFKA_VERSION } from './artifacts.ts';
import { startKafka } from './broker.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '9092' },
    'fetch-only': { type: 'boolean', default: false },
  },
});

const started = performance.now();
const elapsed = () => `${Math.round(performance.now() - started)} ms`;

if (values['fetch-only']) {
  const libs = await ensureKafkaArtifacts(DEFAULT_CACHE_DIR);
  console.log(`Kafka ${KAFKA_VERSION} artifacts ready in ${libs} (${elapsed()})`);
} else {
  const port = Number(values.port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    console.error(`--port must be a TCP port, got ${values.port}`);
    process.exit(2);
  }
  const dataDir = resolve('.mediagate', 'kafka');
  const broker = await startKafka({
    cacheDir: DEFAULT_CACHE_DIR,
    dataDir,
    port,
    log: (line) => console.error(`[kafka] ${line}`),
  });
  console.log(`Kafka ${KAFKA_VERSION} serving (data in ${dataDir}), started in ${elapsed()}`);
  console.log(`KAFKA_BROKERS=${broker.brokers.join(',')}`);

  let stopping = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    // A second signal means the user is done waiting for a graceful stop.
    if (stopping) {
      await broker.kill();
      process.exit(1);
    }
    stopping = true;
    console.error(`${signal}: stopping Kafka`);
    await broker.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
