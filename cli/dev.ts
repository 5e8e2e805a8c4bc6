import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assertPortFree, freePort, portIsFree } from '../deploy/ports.ts';
import { startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import { startEmbeddedS3 } from '../deploy/s3/embedded/server.ts';
import type { Config } from '../platform/config.ts';
import { type DevState, devEnvPath, readDevState, writeDevState } from '../platform/dev-env.ts';
import { createReadiness } from '../platform/health/readiness.ts';
import type { Logger } from '../platform/logger.ts';
import { acquireRoleMetrics, defaultMetricsPorts } from '../platform/metrics/endpoint.ts';
import { acquireTracing } from '../platform/tracing/sdk.ts';
import { lockDataDir } from './dev-lock.ts';
import { runMigrate } from './migrate.ts';
import { runApi, runEdge } from './roles.ts';
import { initStorage } from './storage.ts';
import { type Running, runWorker } from './worker-role.ts';

/**
 * `npm start`: the whole platform in one process on embedded PostgreSQL, an in-process S3 server and the
 * embedded bus, with data under DATA_DIR. Its settings are the environment's, like any role's; what it
 * generates (secrets, the embedded servers' ports) is dev state, kept in DATA_DIR/dev.env and reused, so a
 * second start comes back on the same data and the tokens already handed out keep working.
 */
export async function runDev(base: Config, logger: Logger): Promise<Running> {
  await mkdir(base.dataDir, { recursive: true });
  // Checked before anything starts: a second dev on this data, or a taken port, should cost the user one
  // line, not a PostgreSQL start and its noise on the way down.
  const lock = lockDataDir(base.dataDir);
  try {
    await assertPortFree(base.host, base.apiPort, 'API', 'API_PORT');
    await assertPortFree(base.host, base.edgePort, 'edge', 'EDGE_PORT');
    await assertPortFree(base.host, metricsPortOf(base), 'metrics', 'METRICS_PORT');
  } catch (error) {
    lock.release();
    throw error;
  }
  const previous = readDevState(base.dataDir);
  const state: DevState = {
    jwtSecret: base.auth.jwtSecret ?? previous.jwtSecret ?? randomBytes(32).toString('hex'),
    s3AccessKeyId: previous.s3AccessKeyId ?? 'mediagate-dev',
    s3SecretAccessKey: previous.s3SecretAccessKey ?? randomBytes(24).toString('hex'),
    host: base.host,
    apiPort: base.apiPort,
    edgePort: base.edgePort,
  };
  const stops: (() => Promise<void>)[] = [async () => lock.release()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    // The console's dev sign-in mints tokens (admin too) for whoever asks: only while nobody else can ask.
    const started = await startDependencies(base, state, previous, logger, stops);
    const config = {
      ...started,
      consoleDevSignIn: isLoopback(base.host),
      // A developer's webhook receiver listens on localhost, which the SSRF rule refuses in production.
      webhooks: { ...started.webhooks, allowPrivateNetworks: true },
    };
    await writeDevState(config.dataDir, state);
    await runMigrate(config);
    await initStorage(config.s3);
    await startRoles(config, logger, stops);
    return { url: `http://${config.host}:${config.apiPort}`, stop: stopAll };
  } catch (error) {
    await stopAll().catch(() => {});
    throw error;
  }
}

/** PostgreSQL, then S3, each unless the environment names one; `stops` learns how to stop what started. */
async function startDependencies(
  base: Config,
  state: DevState,
  previous: Partial<DevState>,
  logger: Logger,
  stops: (() => Promise<void>)[],
): Promise<Config> {
  let databaseUrl = base.databaseUrl;
  if (!databaseUrl) {
    state.postgresPort = await reusePort('127.0.0.1', previous.postgresPort, 'PostgreSQL', logger);
    const postgres = await startEmbeddedPostgres({
      dataDir: join(base.dataDir, 'postgres'),
      port: state.postgresPort,
      portSetting: `DEV_POSTGRES_PORT in ${devEnvPath(base.dataDir)}`,
    });
    stops.push(postgres.stop);
    databaseUrl = postgres.url;
  }
  if (base.s3.endpoint) return { ...base, databaseUrl, auth: authOf(base, state) };

  state.s3Port = await reusePort(base.host, previous.s3Port, 'S3', logger);
  const s3 = await startEmbeddedS3({
    dataDir: join(base.dataDir, 's3'),
    host: base.host,
    port: state.s3Port,
    accessKeyId: state.s3AccessKeyId,
    secretAccessKey: state.s3SecretAccessKey,
    region: base.s3.region,
    onError: (error) => logger.error({ err: error }, 'embedded S3 failed a request'),
  });
  stops.push(s3.stop);
  return {
    ...base,
    databaseUrl,
    s3: {
      ...base.s3,
      endpoint: s3.endpoint,
      accessKeyId: state.s3AccessKeyId,
      secretAccessKey: state.s3SecretAccessKey,
      forcePathStyle: true,
    },
    auth: authOf(base, state),
  };
}

function authOf(base: Config, state: DevState): Config['auth'] {
  return {
    ...base.auth,
    jwtSecret: state.jwtSecret,
    urlSigningSecret: base.auth.urlSigningSecret ?? state.jwtSecret,
  };
}

/**
 * The port an embedded server had last time, so URLs handed out before a restart (part uploads in flight)
 * still reach it; another free one when something else took it meanwhile.
 */
async function reusePort(host: string, saved: number | undefined, what: string, logger: Logger) {
  if (saved !== undefined && (await portIsFree(host, saved))) return saved;
  const port = await freePort(host);
  if (saved !== undefined) logger.info({ was: saved, now: port }, `embedded ${what} port was taken; moved`);
  return port;
}

/**
 * Stops run in reverse: the edge first, then the api (each closes its HTTP server before its consumers and
 * bus), then the worker, then S3 and PostgreSQL, which everything before them still uses while draining.
 */
async function startRoles(config: Config, logger: Logger, stops: (() => Promise<void>)[]): Promise<void> {
  // Acquired first, so the roles share a tracer named for dev and it is released last, after their spans.
  const tracing = await acquireTracing(config.otel, 'dev', logger);
  stops.push(tracing.release);
  // Taken before the roles, which share it: one endpoint for the process, on dev's port.
  const metrics = await acquireRoleMetrics(
    { ...config, metricsPort: metricsPortOf(config) },
    'dev',
    createReadiness(),
    logger,
  );
  stops.push(metrics.release);
  const worker = await runWorker(config, logger.child({ component: 'worker' }));
  stops.push(worker.stop);
  const api = await runApi(config, logger.child({ component: 'api' }));
  stops.push(api.stop);
  const edge = await runEdge(config, logger.child({ component: 'edge' }));
  stops.push(edge.stop);
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function metricsPortOf(config: Config): number {
  return config.metricsPort ?? defaultMetricsPorts.dev;
}

export function devBanner(config: Config): string {
  const api = `http://${config.host}:${config.apiPort}`;
  return [
    '',
    `mediagate is running (embedded PostgreSQL, S3 and bus; data in ${config.dataDir})`,
    `  API      ${api}        OpenAPI: ${api}/docs`,
    `  Console  ${api}/console  (${isLoopback(config.host) ? 'dev sign-in' : 'paste a token'})`,
    `  Edge     ${config.edgePublicUrl}/m/{objectKey}`,
    '',
    '  Token    npm run mediagate -- token --sub alice',
    '  Upload   npm run mediagate -- upload ./photo.jpg',
    '',
  ].join('\n');
}
