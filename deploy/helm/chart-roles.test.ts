// Each container of the chart started here, as its own process running the bundle the image runs, with exactly
// the environment the chart gives it: the release is rendered with its external PostgreSQL, Kafka and S3 pointed at real servers on loopback
// (and loopback listen ports), the migrate hook runs to completion, then api, edge and worker must pass
// the readiness probes the manifests declare — and together carry an upload to `ready`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import { uploadFile } from '../../cli/upload.ts';
import { signDevToken } from '../../platform/auth/jwt.ts';
import { loadConfig } from '../../platform/config.ts';
import { scratchBundle } from '../bundle/bundle.ts';
import { startKafka } from '../kafka/broker.ts';
import { freePort } from '../ports.ts';
import { startEmbeddedPostgres } from '../postgres/embedded-postgres.ts';
import { startS3Server } from '../s3/s3-server.ts';
import {
  containerPort,
  type Manifest,
  type RoleContainer,
  renderChart,
  roleContainers,
} from './manifests.ts';

let cli: string;
const cacheDir = loadConfig().cacheDir;

interface Started {
  container: RoleContainer;
  child: ChildProcess;
  output: string[];
}

let dir: string;
const stops: (() => Promise<void>)[] = [];
let containers: RoleContainer[];
let edgePublicUrl: string;
const jwtSecret = randomBytes(32).toString('hex');
const running: Started[] = [];

/** `mediagate <args>` with the container's environment and nothing else but PATH (the image has one too). */
function start(container: RoleContainer): Started {
  const child = spawn(process.execPath, [cli, ...container.container.args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...container.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) =>
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean).slice(-50));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { container, child, output };
}

async function runToCompletion(container: RoleContainer): Promise<void> {
  const { child, output } = start(container);
  const code = await new Promise((resolve) => child.once('exit', resolve));
  assert.equal(code, 0, `${container.where} exited with ${code}:\n${output.join('\n')}`);
}

async function probe(started: Started, probe: Manifest, timeoutMs: number): Promise<number> {
  const port = containerPort(started.container.container, probe.httpGet.port);
  const url = `http://127.0.0.1:${port}${probe.httpGet.path}`;
  const deadline = Date.now() + timeoutMs;
  let status = 0;
  while (Date.now() < deadline && started.child.exitCode === null) {
    status = await fetch(url).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return status;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${started.container.where}: ${url} answered ${status}:\n${started.output.join('\n')}`);
}

before(async () => {
  const bundle = await scratchBundle();
  cli = bundle.entry;
  stops.push(bundle.remove);
  dir = await mkdtemp(join(tmpdir(), 'mediagate-chart-'));
  const [pgPort, apiPort, edgePort, apiMetrics, edgeMetrics, workerMetrics] = await Promise.all([
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
    freePort(),
  ]);
  const pg = await startEmbeddedPostgres({ dataDir: join(dir, 'postgres'), port: pgPort, durable: false });
  stops.push(pg.stop);
  const s3 = await startS3Server({ cacheDir, dataDir: join(dir, 's3') });
  stops.push(s3.stop);
  const kafka = await startKafka({ cacheDir, dataDir: join(dir, 'kafka') });
  stops.push(kafka.stop);
  edgePublicUrl = `http://127.0.0.1:${edgePort}`;
  const manifests = await renderChart({
    listenHost: '127.0.0.1',
    dataDir: join(dir, 'data'),
    edgePublicUrl,
    kafka: {
      brokers: kafka.brokers,
      topicPrefix: `t${randomBytes(3).toString('hex')}.`,
      partitions: 2,
      replicationFactor: 1,
    },
    s3: { endpoint: s3.endpoint, bucket: `mg-${randomBytes(4).toString('hex')}`, createBucket: true },
    secrets: {
      values: {
        DATABASE_URL: pg.url,
        JWT_SECRET: jwtSecret,
        S3_ACCESS_KEY_ID: s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      },
    },
    api: { port: apiPort, metricsPort: apiMetrics },
    edge: { port: edgePort, metricsPort: edgeMetrics },
    worker: { metricsPort: workerMetrics },
  });
  containers = roleContainers(manifests);
});

after(async () => {
  await Promise.all(
    running.map(async ({ child }) => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }),
  );
  for (const stop of stops.reverse()) await stop().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

test('the migrate hook (storage init, then migrate) runs to completion with its environment', async () => {
  const hook = containers.filter((c) => c.workload.kind === 'Job');
  assert.deepEqual(
    hook.map((c) => c.role),
    ['storage', 'migrate'],
  );
  for (const container of hook) await runToCompletion(container);
});

test('api, edge and worker pass the probes their manifests declare', async () => {
  const roles = containers.filter((c) => c.workload.kind === 'Deployment');
  running.push(...roles.map(start));
  for (const started of running) {
    const { livenessProbe, readinessProbe } = started.container.container;
    assert.equal(await probe(started, livenessProbe, 30_000), 200);
    // The api is ready once its consumers have joined their Kafka groups.
    assert.equal(await probe(started, readinessProbe, 90_000), 200);
  }
});

test('the processes so configured carry an upload to ready, served through the edge', async () => {
  const api = running.find((r) => r.container.role === 'api') as Started;
  const photo = join(dir, 'photo.jpg');
  await sharp({ create: { width: 800, height: 600, channels: 3, background: '#3a7' } })
    .jpeg()
    .toFile(photo);
  const media = await uploadFile(photo, {
    apiUrl: `http://127.0.0.1:${api.container.env.API_PORT}`,
    token: signDevToken(jwtSecret, { sub: 'chart-user', roles: [] }),
  });
  assert.equal(media.status, 'ready');
  assert.ok(media.url?.startsWith(`${edgePublicUrl}/m/`), `${media.url} is an edge URL`);
  const read = await fetch(media.url as string, {
    redirect: 'manual',
    headers: { authorization: `Bearer ${signDevToken(jwtSecret, { sub: 'chart-user', roles: [] })}` },
  });
  assert.equal(read.status, 302);
});

test('the api serves the console, built from the sources shipped beside the bundle', async () => {
  const api = running.find((r) => r.container.role === 'api') as Started;
  const base = `http://127.0.0.1:${api.container.env.API_PORT}/console/`;
  const page = await fetch(base);
  assert.equal(page.status, 200);
  const script = /src="\.\/(app-\w+\.js)"/.exec(await page.text())?.[1];
  assert.ok(script, 'the page names its hashed script');
  const asset = await fetch(`${base}${script}`);
  assert.equal(asset.status, 200);
  assert.ok((await asset.text()).length > 1000);
});
