import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type KafkaBrokerHandle, startKafka } from '../deploy/kafka/broker.ts';
import { freePort } from '../deploy/ports.ts';
import { startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import { startEmbeddedS3 } from '../deploy/s3/embedded/server.ts';
import { startS3Server } from '../deploy/s3/s3-server.ts';
import { signDevToken } from '../platform/auth/jwt.ts';
import { loadConfig } from '../platform/config.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { type RoleProcess, runOnce, spawnRole, waitForHttp } from './processes.ts';
import { type S3Traffic, startS3TrafficProxy } from './s3-traffic-proxy.ts';

export interface Platform {
  apiUrl: string;
  bus: 'kafka' | 'embedded';
  /** The broker this platform started, for fault tests; undefined on the embedded bus or an external cluster. */
  kafka?: KafkaBrokerHandle;
  s3Traffic?: S3Traffic;
  /** The proxy S3_PUBLIC_ENDPOINT names (`publicS3Proxy`): what clients, and only they, reach storage through. */
  s3PublicTraffic?: S3Traffic;
  edgeUrl: string;
  /** Each role's Prometheus endpoint (`/metrics`), on a port chosen for it that survives a restart. */
  metricsUrls: Record<'api' | 'worker' | 'edge', string>;
  env: Record<string, string>;
  storage: ObjectStorage;
  roles: Record<'api' | 'worker' | 'edge', RoleProcess>;
  token(sub: string, options?: { admin?: boolean; ttlSeconds?: number }): string;
  restart(role: 'api' | 'worker' | 'edge'): Promise<void>;
  stop(): Promise<void>;
}

const cacheDir = loadConfig().cacheDir;

export interface PlatformOptions {
  env?: Record<string, string>;
  /** Kafka unless MEDIAGATE_TEST_BUS=embedded: the end-to-end suites run on a real broker. */
  bus?: 'kafka' | 'embedded';
  /** Route S3 traffic through a byte-counting proxy (`platform.s3Traffic`). */
  countS3Traffic?: boolean;
  /** A second proxy to the same server as S3_PUBLIC_ENDPOINT: storage on two addresses, public and internal. */
  publicS3Proxy?: boolean;
  /**
   * Versity Gateway by default; `embedded` runs the in-process server `npm start` users get, in the test
   * process. S3_ENDPOINT still wins over both.
   */
  s3?: 'versity' | 'embedded';
  /** An OTLP/HTTP endpoint (test/otlp-receiver.ts) the roles send their spans to, as JSON, within 200 ms. */
  otlpEndpoint?: string;
  /** The `mediagate` command the roles run: the sources by default, or a bundle as the image ships. */
  cli?: string;
}

/**
 * Starts real servers on loopback (PostgreSQL, an S3 server that checks signatures and expiry, an Apache
 * Kafka broker) and the api, worker and edge as separate processes. DATABASE_URL, S3_ENDPOINT (with its
 * credentials) and KAFKA_BROKERS point the suite at existing servers instead.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const tracing = options.otlpEndpoint && {
    OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '200',
  };
  const extraEnv = { ...tracing, ...options.env };
  const bus = options.bus ?? (process.env.MEDIAGATE_TEST_BUS === 'embedded' ? 'embedded' : 'kafka');
  const dir = await mkdtemp(join(tmpdir(), 'mediagate-test-'));
  await chmod(dir, 0o755);
  const stops: (() => Promise<void>)[] = [];
  try {
    return await launch(dir, stops, extraEnv, bus, options, options.s3 ?? 'versity');
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(
  dir: string,
  stops: (() => Promise<void>)[],
  extraEnv: Record<string, string>,
  bus: Platform['bus'],
  options: Pick<PlatformOptions, 'countS3Traffic' | 'publicS3Proxy' | 'cli'>,
  s3Server: 'versity' | 'embedded',
): Promise<Platform> {
  const [pgPort, apiPort, edgePort] = await Promise.all([freePort(), freePort(), freePort()]);
  const metricsPorts = { api: await freePort(), worker: await freePort(), edge: await freePort() };

  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: pgPort, durable: false });
    stops.push(pg.stop);
    databaseUrl = pg.url;
  }
  let s3 = process.env.S3_ENDPOINT
    ? {
        endpoint: process.env.S3_ENDPOINT,
        accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
        secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
      }
    : undefined;
  if (!s3) {
    const server =
      s3Server === 'embedded'
        ? await embeddedS3(join(dir, 's3'))
        : await startS3Server({ cacheDir, dataDir: join(dir, 's3') });
    stops.push(server.stop);
    s3 = server;
  }

  const s3Traffic = options.countS3Traffic ? await startS3TrafficProxy(s3.endpoint) : undefined;
  if (s3Traffic) stops.push(s3Traffic.close);
  const s3PublicTraffic = options.publicS3Proxy ? await startS3TrafficProxy(s3.endpoint) : undefined;
  if (s3PublicTraffic) stops.push(s3PublicTraffic.close);

  let kafka: KafkaBrokerHandle | undefined;
  let brokers = bus === 'kafka' ? process.env.KAFKA_BROKERS : undefined;
  if (bus === 'kafka' && !brokers) {
    kafka = await startKafka({ cacheDir, dataDir: join(dir, 'kafka') });
    stops.push(kafka.stop);
    brokers = kafka.brokers.join(',');
  }

  const jwtSecret = randomBytes(32).toString('hex');
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    S3_ENDPOINT: s3Traffic?.endpoint ?? s3.endpoint,
    ...(s3PublicTraffic ? { S3_PUBLIC_ENDPOINT: s3PublicTraffic.endpoint } : {}),
    S3_ACCESS_KEY_ID: s3.accessKeyId,
    S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    S3_BUCKET: `mg-${randomBytes(4).toString('hex')}`,
    S3_FORCE_PATH_STYLE: 'true',
    JWT_SECRET: jwtSecret,
    API_PORT: String(apiPort),
    EDGE_PORT: String(edgePort),
    // Each role process binds its own metrics endpoint (startRole sets its port); fixed defaults would
    // collide across parallel suites.
    METRICS_PORT: '0',
    DATA_DIR: join(dir, 'data'),
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    UPLOAD_PART_SIZE_BYTES: String(5 * 1024 * 1024),
    EDGE_CACHE_TTL_MS: '0',
    KAFKA_BROKERS: brokers ?? '',
    KAFKA_TOPIC_PREFIX: `t${randomBytes(3).toString('hex')}.`,
    KAFKA_PARTITIONS: '3',
    ...extraEnv,
  };
  const storage = createS3Storage(loadConfig(env).s3);
  await storage.ensureBucket();
  await runOnce('migrate', env, options.cli);

  const roles = {} as Platform['roles'];
  stops.push(async () => {
    await Promise.all(Object.values(roles).map((r) => r.stop()));
  });
  const health = { api: `http://127.0.0.1:${apiPort}/healthz`, edge: `http://127.0.0.1:${edgePort}/healthz` };
  const startRole = async (role: 'api' | 'worker' | 'edge') => {
    roles[role] = spawnRole(role, { ...env, METRICS_PORT: String(metricsPorts[role]) }, options.cli);
    if (role !== 'worker') await waitForHttp(health[role], roles[role]);
  };
  await Promise.all([startRole('api'), startRole('worker'), startRole('edge')]);

  return {
    bus,
    kafka,
    s3Traffic,
    s3PublicTraffic,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    edgeUrl: `http://127.0.0.1:${edgePort}`,
    metricsUrls: {
      api: `http://127.0.0.1:${metricsPorts.api}/metrics`,
      worker: `http://127.0.0.1:${metricsPorts.worker}/metrics`,
      edge: `http://127.0.0.1:${metricsPorts.edge}/metrics`,
    },
    env,
    storage,
    roles,
    token: (sub, options = {}) =>
      signDevToken(jwtSecret, { sub, roles: options.admin ? ['admin'] : [] }, options.ttlSeconds ?? 3600),
    async restart(role) {
      await roles[role].stop();
      await startRole(role);
    },
    async stop() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function embeddedS3(dataDir: string) {
  const credentials = { accessKeyId: 'embedded', secretAccessKey: randomBytes(24).toString('hex') };
  const server = await startEmbeddedS3({ dataDir, ...credentials });
  return { ...server, ...credentials };
}
