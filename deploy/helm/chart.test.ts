// The Helm chart, rendered by a real helm: lint, and what the rendered manifests promise an operator —
// every setting they give a role is one it reads, each role has what it needs, probes and Services reach
// ports that exist, workers outlive their longest job, and KEDA watches the group the workers really join.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { parse } from 'yaml';
import { topics } from '../../contracts/events.ts';
import { kafkaGroupId, topicNames } from '../../platform/bus/kafka-topics.ts';
import { loadConfig } from '../../platform/config.ts';
import { defaultMetricsPorts } from '../../platform/metrics/endpoint.ts';
import { workerGroup } from '../../worker/worker.ts';
import { roleEnvProblems } from '../role-env.ts';
import {
  chartDir,
  containerPort,
  helmWithValues,
  type Manifest,
  type RoleContainer,
  renderChart,
  roleContainers,
} from './manifests.ts';

/** A production-shaped release: external PostgreSQL, Kafka with SASL over TLS, S3, CDN, clamd. */
export const productionValues = {
  kafka: {
    brokers: ['kafka-0.kafka:9093', 'kafka-1.kafka:9093'],
    sasl: { mechanism: 'scram-sha-512', username: 'mediagate' },
    tls: { enabled: true, caSecret: 'kafka-ca' },
  },
  s3: {
    endpoint: 'https://s3.internal:9000',
    publicEndpoint: 'https://storage.example.com',
    bucket: 'media-prod',
    createBucket: true,
  },
  cdn: { baseUrl: 'https://cdn.media.example.com' },
  clamav: { host: 'clamd' },
  config: { IMAGE_TIMEOUT_SECONDS: 90, MODERATION_VENDOR: 'none' },
  secrets: {
    values: {
      DATABASE_URL: 'postgres://mediagate:pw@postgres.db:5432/mediagate',
      JWT_SECRET: 'a-jwt-secret-of-enough-length',
      S3_ACCESS_KEY_ID: 'AKIA',
      S3_SECRET_ACCESS_KEY: 'secret',
      KAFKA_SASL_PASSWORD: 'kafka-pw',
    },
  },
};

const chartValues = parse(readFileSync(`${chartDir}/values.yaml`, 'utf8'));
let manifests: Manifest[];
let containers: RoleContainer[];
const ofKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const named = (kind: string, name: string) => ofKind(kind).find((m) => m.metadata.name === name);

before(async () => {
  manifests = await renderChart(productionValues);
  containers = roleContainers(manifests);
});

test('helm lint --strict passes on the default values and on a production-shaped release', async () => {
  await helmWithValues(['lint', '--strict']);
  await helmWithValues(['lint', '--strict'], productionValues);
});

test('the chart runs every role: api, edge and worker Deployments, a migrate hook that can create the bucket', () => {
  const roles = containers.map((c) => `${c.workload.kind}:${c.role}`).sort();
  assert.deepEqual(roles, [
    'Deployment:api',
    'Deployment:edge',
    'Deployment:worker',
    'Job:migrate',
    'Job:storage',
  ]);
  const job = ofKind('Job')[0] as Manifest;
  assert.equal(job.metadata.annotations['helm.sh/hook'], 'pre-install,pre-upgrade');
  const secret = named('Secret', 'rel-mediagate-secrets') as Manifest;
  const weight = (m: Manifest) => Number(m.metadata.annotations['helm.sh/hook-weight']);
  assert.equal(
    secret.metadata.annotations['helm.sh/hook'],
    'pre-install,pre-upgrade',
    'exists before the hook',
  );
  assert.ok(weight(secret) < weight(job), 'the Secret the migrate Job reads is created first');
});

test('every variable a container gets is a setting mediagate reads, and each role has what it needs', () => {
  const problems = containers.flatMap((c) => roleEnvProblems(c.where, c.role, c.env));
  assert.deepEqual(problems, []);
  const worker = containers.find((c) => c.role === 'worker') as RoleContainer;
  assert.equal(
    worker.env.DATABASE_URL,
    undefined,
    'the worker talks Kafka and S3 only: no database password',
  );
  const kafka = loadConfig(worker.env).kafka;
  assert.deepEqual(kafka.sasl, { mechanism: 'scram-sha-512', username: 'mediagate', password: 'kafka-pw' });
  assert.equal(kafka.sslCaFile, '/etc/mediagate/kafka-ca/ca.crt');
  const mount = worker.container.volumeMounts.find((m: Manifest) => m.name === 'kafka-ca');
  assert.equal(`${mount.mountPath}/ca.crt`, kafka.sslCaFile, 'the CA file is where the Secret is mounted');
});

test('probes and Services reach the routes and ports each role really serves', () => {
  for (const { where, role, container, env } of containers.filter((c) => c.workload.kind === 'Deployment')) {
    const config = loadConfig(env);
    const metricsPort = config.metricsPort ?? defaultMetricsPorts[role as 'api'];
    // api and edge answer probes on their HTTP port; the worker's only port is its metrics endpoint.
    const probePort = { api: config.apiPort, edge: config.edgePort, worker: metricsPort }[role as 'api'];
    assert.deepEqual(container.livenessProbe.httpGet.path, '/healthz', where);
    assert.deepEqual(container.readinessProbe.httpGet.path, '/readyz', where);
    for (const probe of [container.livenessProbe, container.readinessProbe]) {
      assert.equal(containerPort(container, probe.httpGet.port), probePort, `${where} probe port`);
    }
    assert.equal(containerPort(container, 'metrics'), metricsPort, `${where} metrics port`);
    const deployment = named('Deployment', where.split('/')[1] as string) as Manifest;
    const podAnnotations = deployment.spec.template.metadata.annotations;
    assert.equal(Number(podAnnotations['prometheus.io/port']), metricsPort, `${where} scrape port`);
  }
  for (const service of ofKind('Service')) {
    const deployment = named('Deployment', service.metadata.name) as Manifest;
    const container = deployment.spec.template.spec.containers[0];
    for (const port of service.spec.ports) {
      assert.ok(containerPort(container, port.targetPort), `${service.metadata.name} → ${port.targetPort}`);
    }
    const labels = deployment.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(service.spec.selector)) assert.equal(labels[key], value);
  }
});

test('the Ingress serves api and edge over TLS, each host on its own Service', () => {
  const [ingress] = ofKind('Ingress') as [Manifest];
  const tlsHosts = ingress.spec.tls.flatMap((t: Manifest) => t.hosts);
  for (const rule of ingress.spec.rules) {
    assert.ok(tlsHosts.includes(rule.host), `${rule.host} has a certificate`);
    const backend = rule.http.paths[0].backend.service;
    const service = named('Service', backend.name) as Manifest;
    assert.ok(
      service.spec.ports.some((p: Manifest) => p.name === backend.port.name),
      backend.name,
    );
  }
  const api = containers.find((c) => c.role === 'api') as RoleContainer;
  const edgeHost = ingress.spec.rules.find((r: Manifest) =>
    r.http.paths[0].backend.service.name.endsWith('edge'),
  );
  assert.equal(api.env.EDGE_PUBLIC_URL, `https://${edgeHost.host}`, 'media URLs point at the edge Ingress');
});

test("a worker's grace period outlives its longest job: images, and the ffmpeg step budget the values cite", () => {
  const worker = containers.find((c) => c.role === 'worker') as RoleContainer;
  const grace = worker.workload.spec.template.spec.terminationGracePeriodSeconds;
  const { longestJobSeconds, shutdownMarginSeconds } = chartValues.worker;
  assert.equal(grace, longestJobSeconds + shutdownMarginSeconds);
  assert.ok(grace > loadConfig(worker.env).image.timeoutSeconds, 'longer than IMAGE_TIMEOUT_SECONDS');
  const ffmpeg = readFileSync(new URL('../../platform/media/run-ffmpeg.ts', import.meta.url), 'utf8');
  const [, minutes] = /DEFAULT_TIMEOUT_MS = (\d+) \* 60_000/.exec(ffmpeg) ?? [];
  assert.ok(minutes, 'the ffmpeg step budget is still where the values say');
  assert.ok(longestJobSeconds >= Number(minutes) * 60, 'longer than one ffmpeg step');
});

test('workers scale on the lag of the consumer group they join; api and edge on CPU', () => {
  const [scaled] = ofKind('ScaledObject') as [Manifest];
  const worker = containers.find((c) => c.role === 'worker') as RoleContainer;
  const prefix = loadConfig(worker.env).kafka.topicPrefix;
  const trigger = scaled.spec.triggers[0];
  assert.equal(trigger.metadata.topic, topicNames(prefix, topics.optimizeRequest).main);
  assert.equal(trigger.metadata.consumerGroup, kafkaGroupId(prefix, topics.optimizeRequest, workerGroup));
  assert.equal(trigger.metadata.bootstrapServers, worker.env.KAFKA_BROKERS);
  assert.equal(scaled.spec.scaleTargetRef.name, worker.workload.metadata.name);
  assert.equal(worker.workload.spec.replicas, undefined, 'KEDA owns the replica count');
  const auth = named('TriggerAuthentication', trigger.authenticationRef.name) as Manifest;
  const keda = named('Secret', 'rel-mediagate-keda') as Manifest;
  const params = Object.fromEntries(auth.spec.secretTargetRef.map((r: Manifest) => [r.parameter, r]));
  assert.equal(keda.stringData[params.sasl.key], 'scram_sha512');
  assert.equal(keda.stringData[params.tls.key], 'enable');
  assert.equal(params.password.key, 'KAFKA_SASL_PASSWORD');
  for (const hpa of ofKind('HorizontalPodAutoscaler')) {
    const target = named('Deployment', hpa.spec.scaleTargetRef.name) as Manifest;
    assert.ok(target.spec.template.spec.containers[0].resources.requests.cpu, 'CPU scaling needs a request');
    assert.equal(target.spec.replicas, undefined, `${hpa.metadata.name}: the HPA owns the replica count`);
  }
  assert.deepEqual(
    ofKind('HorizontalPodAutoscaler')
      .map((h) => h.metadata.name)
      .sort(),
    ['rel-mediagate-api', 'rel-mediagate-edge'],
  );
});

test('every pod runs non-root on a read-only root filesystem, writing only to its volumes, with limits', () => {
  for (const { where, workload, container, env } of containers) {
    const pod = workload.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true, where);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true, where);
    assert.ok(container.resources.requests && container.resources.limits, `${where} resources`);
    const config = loadConfig(env);
    const mounts = container.volumeMounts.map((m: Manifest) => m.mountPath as string);
    for (const dir of [config.dataDir, config.worker.tempDir]) {
      assert.ok(
        mounts.some((m: string) => dir.startsWith(`${m}/`)),
        `${where}: ${dir} is on a volume`,
      );
    }
  }
  for (const pdb of ofKind('PodDisruptionBudget')) {
    const deployment = named('Deployment', pdb.metadata.name) as Manifest;
    assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  }
});

test('an existing Secret replaces the chart-made one, and a too-short worker grace period is refused', async () => {
  const existing = await renderChart({ ...productionValues, secrets: { existingSecret: 'ops-made' } });
  assert.equal(existing.filter((m) => m.kind === 'Secret' && m.metadata.name.endsWith('-secrets')).length, 0);
  const text = JSON.stringify(existing);
  assert.ok(text.includes('"name":"ops-made","key":"DATABASE_URL"'));
  assert.ok(!text.includes('rel-mediagate-secrets'), 'every reference points at the existing Secret');
  await assert.rejects(
    renderChart({ ...productionValues, worker: { ...chartValues.worker, longestJobSeconds: 30 } }),
    /worker.longestJobSeconds \(30\) is below IMAGE_TIMEOUT_SECONDS \(90\)/,
  );
});
