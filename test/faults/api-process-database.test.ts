import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort } from '../../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import { type EmbeddedS3, startEmbeddedS3 } from '../../deploy/s3/embedded/server.ts';
import { signDevToken } from '../../platform/auth/jwt.ts';
import { loadConfig } from '../../platform/config.ts';
import { createS3Storage } from '../../platform/storage/s3-storage.ts';
import { type RoleProcess, runOnce, spawnRole, waitForHttp } from '../processes.ts';

/**
 * The api as its own process (embedded bus, so no broker is needed) through what a database failover does
 * to it: every session terminated, repeatedly, with requests in flight, then PostgreSQL stopped and
 * started. The process must live through all of it and serve again; metrics stay off the public port.
 */
let dir: string;
let postgres: PostgresHandle;
let s3: EmbeddedS3;
let api: RoleProcess;
let env: Record<string, string>;
let pgPort: number;
let apiUrl: string;
let metricsUrl: string;
let token: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-dbfault-'));
  await chmod(dir, 0o755);
  pgPort = await freePort();
  postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: pgPort, durable: false });
  const secret = randomBytes(16).toString('hex');
  s3 = await startEmbeddedS3({ dataDir: join(dir, 's3'), accessKeyId: 'dbfault', secretAccessKey: secret });
  const [apiPort, metricsPort] = await Promise.all([freePort(), freePort()]);
  const jwtSecret = randomBytes(32).toString('hex');
  env = {
    DATABASE_URL: postgres.url,
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY_ID: 'dbfault',
    S3_SECRET_ACCESS_KEY: secret,
    S3_BUCKET: 'dbfault',
    JWT_SECRET: jwtSecret,
    API_PORT: String(apiPort),
    METRICS_PORT: String(metricsPort),
    DATA_DIR: join(dir, 'data'),
    KAFKA_BROKERS: '',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
  };
  await createS3Storage(loadConfig(env).s3).ensureBucket();
  await runOnce('migrate', env);
  apiUrl = `http://127.0.0.1:${apiPort}`;
  metricsUrl = `http://127.0.0.1:${metricsPort}`;
  token = signDevToken(jwtSecret, { sub: 'failover-user', roles: [] });
  api = spawnRole('api', env);
  await waitForHttp(`${apiUrl}/healthz`, api);
});
after(async () => {
  await api?.stop();
  await s3?.stop();
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

const alive = () => api.child.exitCode === null && api.child.signalCode === null;

async function call(method: 'GET' | 'POST', path: string, body?: object) {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as { code?: string },
  };
}

const createUpload = (name: string) =>
  call('POST', '/v1/uploads', { filename: `${name}.jpg`, contentType: 'image/jpeg', size: 1000 });

async function readyWithin(ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.status === 200) return true;
    await sleep(200);
  }
  return false;
}

describe('the api process through database failures', () => {
  test('metrics are served on METRICS_PORT and not on the API port; readiness names its checks', async () => {
    assert.equal((await fetch(`${apiUrl}/metrics`)).status, 404);
    const metrics = await fetch(`${metricsUrl}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^process_cpu_user_seconds_total/m);
    assert.match(text, /^mediagate_media_stuck_processing 0$/m);
    assert.ok(await readyWithin(30_000), 'the api became ready');
    const report = (await (await fetch(`${apiUrl}/readyz`)).json()) as { checks: Record<string, unknown> };
    assert.deepEqual(Object.keys(report.checks).sort(), [
      'database',
      'results consumer',
      'stop marks',
      'storage',
      'virus consumer',
      'webhook fan-out',
    ]);
    assert.equal(
      (await fetch(`${metricsUrl}/readyz`)).status,
      200,
      'the metrics port answers the probes too',
    );
  });

  test('terminating every session, again and again, with requests in flight: answers or 503s, and the process lives', async () => {
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    const statuses = new Map<number, number>();
    try {
      for (let round = 0; round < 10; round++) {
        const requests = Array.from({ length: 10 }, (_, i) =>
          i % 2 ? createUpload(`r${round}-${i}`) : call('GET', '/v1/media?owner=me'),
        );
        await sleep(round * 2);
        await admin.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
            where pid <> pg_backend_pid() and datname = current_database()`,
        );
        for (const reply of await Promise.all(requests)) {
          statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
          assert.ok([200, 201, 503].includes(reply.status), JSON.stringify(reply));
          if (reply.status === 503) {
            assert.equal(reply.body.code, 'database_unavailable');
            assert.ok(reply.retryAfter);
          }
        }
        assert.ok(alive(), `the api died in round ${round}:\n${api.output.join('\n')}`);
      }
    } finally {
      await admin.end();
    }
    console.log('statuses under repeated terminations', Object.fromEntries(statuses));
    assert.ok(alive());
    assert.equal((await createUpload('after-terminations')).status, 201);
  });

  test('PostgreSQL stopped: 503 database_unavailable and not ready; started again: serves, same process', async () => {
    await postgres.stop();
    const down = await createUpload('while-down');
    assert.equal(down.status, 503, JSON.stringify(down));
    assert.equal(down.body.code, 'database_unavailable');
    assert.equal((await fetch(`${apiUrl}/readyz`)).status, 503);
    assert.ok(alive());

    const restartedAt = performance.now();
    postgres = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: pgPort, durable: false });
    assert.ok(await readyWithin(60_000), 'ready again after the restart');
    console.log(`ready again ${Math.round(performance.now() - restartedAt)} ms after PostgreSQL started`);
    assert.equal((await createUpload('after-restart')).status, 201);
    assert.ok(alive());
    const metrics = await (await fetch(`${metricsUrl}/metrics`)).text();
    const answered = Number(
      /^mediagate_database_unavailable_responses_total\{role="api"\} (\d+)/m.exec(metrics)?.[1],
    );
    assert.ok(answered >= 1, 'the 503s are counted');
  });
});
