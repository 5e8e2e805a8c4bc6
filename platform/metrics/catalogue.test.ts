// The metrics catalogue follows Prometheus conventions, and the README's catalogue names every metric.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { registerBusGauges } from './bus.ts';
import { instrumentEdgeReads } from './edge.ts';
import { instrumentHttp } from './http.ts';
import { countDatabaseOutages } from './http-outages.ts';
import { liveStatusMetrics } from './live-status.ts';
import { moderationMetrics } from './moderation.ts';
import { registerOutboxGauges, relayMetrics } from './outbox.ts';
import { workerMetrics } from './pipeline.ts';
import { computedGauge, counter } from './registry.ts';
import { uploadMetrics } from './uploads.ts';
import { registerWebhookGauges, webhookMetrics } from './webhooks.ts';

const unread = () => Promise.reject(new Error('read at scrape time only'));

/** Every metric the roles register (cli/roles.ts), in one registry; nothing is scraped. */
function catalogue(): Registry {
  const registry = new Registry();
  const app = Fastify();
  instrumentHttp(app, registry, 'api');
  countDatabaseOutages(app, registry, 'api');
  instrumentEdgeReads(app, registry);
  uploadMetrics(registry);
  moderationMetrics(registry);
  liveStatusMetrics(registry);
  workerMetrics(registry);
  relayMetrics(registry);
  registerOutboxGauges(registry, unread);
  webhookMetrics(registry);
  registerWebhookGauges(registry, unread);
  registerBusGauges(registry, { consumerLag: unread, listDeadLetters: unread, redrive: unread }, []);
  // Registered beside their own code (api/results, api/ops), listed here by the same names.
  counter(registry, 'mediagate_media_dead_lettered_total', 'dead-lettered media');
  computedGauge(registry, 'mediagate_media_stuck_processing', 'stuck media', unread);
  return registry;
}

/** Label names a request or a media could make unbounded: never allowed. */
const unbounded =
  /^(media_?id|user_?id|owner|sub|key|object_?key|url|path|upload_?id|request_?id|instance_id)$/i;

test('names carry their unit and type, labels are bounded', () => {
  const metrics = catalogue().getMetricsAsArray();
  assert.ok(metrics.length >= 25, `${metrics.length} metrics`);
  for (const metric of metrics) {
    const { name, help, labelNames } = metric as unknown as {
      name: string;
      help: string;
      labelNames: string[];
    };
    const type = (metric as unknown as { type: string }).type;
    assert.match(name, /^mediagate_[a-z0-9_]+$/, name);
    assert.ok(help.length > 10, `${name} has no help`);
    if (type === 'counter') assert.match(name, /_total$/, `${name}: a counter ends in _total`);
    else assert.doesNotMatch(name, /_total$/, `${name}: only counters end in _total`);
    if (type === 'histogram') assert.match(name, /_(seconds|bytes)$/, `${name}: a histogram names its unit`);
    if (type === 'gauge') {
      assert.match(
        name,
        /_(seconds|messages|events|processing|in_flight|state)$/,
        `${name}: a gauge names its unit`,
      );
    }
    for (const label of labelNames) assert.doesNotMatch(label, unbounded, `${name}{${label}}`);
  }
});

test('the README catalogue lists exactly the registered metrics', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Observing'), readme.indexOf('## Configuration'));
  const documented = [...section.matchAll(/^\| `(mediagate_[a-z0-9_]+)` \|/gm)].map((m) => m[1]).sort();
  const registered = catalogue()
    .getMetricsAsArray()
    .map((m) => (m as unknown as { name: string }).name)
    .sort();
  assert.deepEqual(documented, registered);
});
