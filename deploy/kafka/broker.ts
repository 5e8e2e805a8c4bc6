import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { freePort, portIsFree } from '../ports.ts';
import { ensureKafkaArtifacts } from './artifacts.ts';

const START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 10_000;
const TAIL_LINES = 40;

export interface KafkaBrokerHandle {
  brokers: string[];
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

export interface StartKafkaOptions {
  cacheDir: string;
  dataDir: string;
  port?: number;
  controllerPort?: number;
  log?: (line: string) => void;
}

/** Kafka's Uuid text form: 16 random bytes, base64url; Kafka avoids a leading '-' so tools don't read a flag. */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

// Single-node settings for tests. The short broker session matters most: after a SIGKILL the restarted broker
// cannot re-register until the dead incarnation's session expires (9 s by default). One partition per internal
// topic keeps their lazy creation and the log recovery after a hard kill quick.
function serverProperties(port: number, controllerPort: number, logDir: string): string {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${logDir}
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=1
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
log.segment.bytes=16777216
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=2000
`;
}

// WARN and up; NetworkClient is muted because every clean stop logs a harmless "already closed" race.
const LOG4J2_PROPERTIES = `status = error
shutdownHook = disable
appender.console.type = Console
appender.console.name = STDERR
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss.SSS} %p %m (%c{1})%n
rootLogger.level = WARN
rootLogger.appenderRef.console.ref = STDERR
logger.shutdownRace.name = org.apache.kafka.clients.NetworkClient
logger.shutdownRace.level = ERROR
`;

const JAVA = 'java';

// C1-only JIT cut start-up from 2.5-5 s to about 2 s on the 2-core machines; a test or dev broker needs a quick
// start far more than peak throughput.
const JVM_FLAGS = ['-Xmx512m', '-XX:TieredStopAtLevel=1'];

function isRunning(proc: ChildProcess): boolean {
  // A process that failed to spawn has no pid and never reports an exit code.
  return proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null;
}

/** True once the broker answers metadata and every partition it knows has a leader, i.e. clients can write. */
async function serving(brokers: string[]): Promise<boolean> {
  const kafka = new Kafka({
    brokers,
    clientId: 'mediagate-kafka-probe',
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata();
    return topics.every((t) => t.partitions.every((p) => p.leader >= 0));
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export async function startKafka(opts: StartKafkaOptions): Promise<KafkaBrokerHandle> {
  const libs = await ensureKafkaArtifacts(opts.cacheDir);
  const port = opts.port ?? (await freePort());
  const controllerPort = opts.controllerPort ?? (await freePort());
  const brokers = [`127.0.0.1:${port}`];
  const logDir = join(opts.dataDir, 'log');
  const propsFile = join(opts.dataDir, 'server.properties');
  const log4jFile = join(opts.dataDir, 'log4j2.properties');
  await mkdir(logDir, { recursive: true });
  await writeFile(propsFile, serverProperties(port, controllerPort, logDir));
  await writeFile(log4jFile, LOG4J2_PROPERTIES);

  const tail: string[] = [];
  const java = (mainClass: string, args: string[]): ChildProcess => {
    const child = spawn(
      JAVA,
      [...JVM_FLAGS, `-Dlog4j2.configurationFile=${log4jFile}`, '-cp', `${libs}/*`, mainClass, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.on('error', (err) => tail.push(`spawning ${JAVA} failed: ${err.message}`));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        opts.log?.(line);
      });
    }
    return child;
  };
  const failure = (what: string) => new Error(`${what}\n--- last Kafka output ---\n${tail.join('\n')}`);

  if (!existsSync(join(logDir, 'meta.properties'))) {
    const format = java('kafka.tools.StorageTool', ['format', '-t', clusterId(), '-c', propsFile]);
    const [code] = await once(format, 'exit');
    if (code !== 0) throw failure(`formatting ${logDir} failed with exit code ${code}`);
  }

  let proc: ChildProcess | undefined;
  // A test runner that dies without calling stop() must not leave a broker holding the ports.
  const killOnExit = () => proc?.kill('SIGKILL');
  const guardExit = (on: boolean) => {
    process.off('exit', killOnExit);
    if (on) process.on('exit', killOnExit);
  };
  guardExit(true);

  const terminate = async (signal: NodeJS.Signals) => {
    const p = proc;
    if (p === undefined || !isRunning(p)) return;
    const exited = once(p, 'exit');
    p.kill(signal);
    const timer = setTimeout(() => p.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  const launch = async () => {
    // Otherwise the readiness probe could be answered by whatever already listens there.
    for (const p of [port, controllerPort]) {
      if (!(await portIsFree('127.0.0.1', p)))
        throw new Error(`cannot start Kafka: 127.0.0.1:${p} is already in use`);
    }
    tail.length = 0;
    const child = java('kafka.Kafka', [propsFile]);
    proc = child;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const ready = await serving(brokers);
      if (!isRunning(child)) {
        throw failure(`Kafka exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`);
      }
      if (ready) return;
      if (Date.now() > deadline) {
        await terminate('SIGKILL');
        throw failure(`Kafka did not serve on ${brokers[0]} within ${START_TIMEOUT_MS} ms`);
      }
      await sleep(100);
    }
  };

  try {
    await launch();
  } catch (err) {
    guardExit(false);
    throw err;
  }

  return {
    brokers,
    async stop() {
      await terminate('SIGTERM');
      guardExit(false);
    },
    async kill() {
      await terminate('SIGKILL');
    },
    async restart() {
      await terminate('SIGTERM');
      guardExit(true);
      await launch();
    },
  };
}
