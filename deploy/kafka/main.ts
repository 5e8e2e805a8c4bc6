// Local Kafka for development and for running the roles by hand; `--help` lists the options.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { assertPortFree } from '../ports.ts';
import { DEFAULT_CACHE_DIR, ensureKafkaArtifacts, KAFKA_VERSION } from './artifacts.ts';
import { startKafka } from './broker.ts';

const usage = `usage: npm run kafka -- [--data-dir DIR] [--port PORT] [--controller-port PORT]
  --data-dir DIR           broker data; kept across restarts (default ./.mediagate/kafka)
  --port PORT              the listener clients use, KAFKA_BROKERS=127.0.0.1:PORT (default 9092)
  --controller-port PORT   the KRaft controller's listener (default 9093)
  --fetch-only             only download Kafka into the cache (${DEFAULT_CACHE_DIR})`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

function portOption(name: string, raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    fail(`--${name} must be a TCP port, got ${raw}\n${usage}`);
  return port;
}

let values: {
  port: string;
  'controller-port': string;
  'data-dir': string;
  'fetch-only': boolean;
  help: boolean;
};
try {
  ({ values } = parseArgs({
    options: {
      port: { type: 'string', default: '9092' },
      'controller-port': { type: 'string', default: '9093' },
      'data-dir': { type: 'string', default: resolve('.mediagate', 'kafka') },
      'fetch-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (error) {
  fail(`${(error as Error).message}\n${usage}`);
}

const started = performance.now();
const elapsed = () => `${Math.round(performance.now() - started)} ms`;

if (values.help) {
  console.log(usage);
} else if (values['fetch-only']) {
  const libs = await ensureKafkaArtifacts(DEFAULT_CACHE_DIR);
  console.log(`Kafka ${KAFKA_VERSION} artifacts ready in ${libs} (${elapsed()})`);
} else {
  const port = portOption('port', values.port);
  const controllerPort = portOption('controller-port', values['controller-port']);
  if (port === controllerPort) fail('--port and --controller-port must differ');
  const dataDir = resolve(values['data-dir']);
  try {
    await assertPortFree('127.0.0.1', port, 'Kafka clients', '--port');
    await assertPortFree('127.0.0.1', controllerPort, 'Kafka controller', '--controller-port');
  } catch (error) {
    fail((error as Error).message, 1);
  }
  const broker = await startKafka({
    cacheDir: DEFAULT_CACHE_DIR,
    dataDir,
    port,
    controllerPort,
    log: (line) => console.error(`[kafka] ${line}`),
  }).catch((error: unknown) => fail(error instanceof Error ? error.message : String(error), 1));
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
