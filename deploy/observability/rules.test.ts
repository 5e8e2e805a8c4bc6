// The alert rules: valid for Prometheus (`promtool check rules`), each alert proven by its unit test
// (`promtool test rules`), covered by a test, and shipped unchanged in the Helm chart as a PrometheusRule.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { renderChart } from '../helm/manifests.ts';
import { promtool } from './prometheus-binaries.ts';

const run = promisify(execFile);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const rulesFile = here('./prometheus/alerts.yml');
const rules = parse(readFileSync(rulesFile, 'utf8')) as {
  groups: {
    rules: {
      alert: string;
      for?: string;
      labels?: { severity?: string };
      annotations?: Record<string, string>;
    }[];
  }[];
};
const alerts = rules.groups.flatMap((g) => g.rules);

test('promtool check rules accepts the alert rules', async () => {
  const { stdout } = await run(await promtool(), ['check', 'rules', rulesFile]);
  assert.match(stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));
});

test('every alert waits a for:, has a severity, a summary and a runbook-style description', () => {
  const expected = [
    'MediagateOutboxBacklogOld',
    'MediagateConsumerLagHigh',
    'MediagateDeadLetters',
    'MediagateMediaStuckProcessing',
    'MediagateGate5xxRate',
    'MediagateModerationCircuitOpen',
    'MediagateTimeToReadySlow',
    'MediagateEdgeErrorRate',
  ];
  assert.deepEqual(alerts.map((a) => a.alert).sort(), [...expected].sort());
  for (const alert of alerts) {
    assert.match(alert.for ?? '', /^\d+m$/, `${alert.alert} for:`);
    assert.ok(['warning', 'critical'].includes(alert.labels?.severity ?? ''), `${alert.alert} severity`);
    assert.ok((alert.annotations?.summary ?? '').length > 10, `${alert.alert} summary`);
    assert.ok((alert.annotations?.description ?? '').length > 150, `${alert.alert} description`);
  }
});

test('promtool test rules: each alert fires on its situation after its for:, and only then', async () => {
  const testsFile = here('./prometheus/alerts.test.yml');
  const { stdout, stderr } = await run(await promtool(), ['test', 'rules', testsFile]).catch(
    (error: { stdout: string; stderr: string }) => assert.fail(`${error.stdout}${error.stderr}`),
  );
  assert.match(`${stdout}${stderr}`, /SUCCESS/);
  const tested = parse(readFileSync(testsFile, 'utf8')) as {
    tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
  };
  const firing = new Set(
    tested.tests.flatMap((t) =>
      t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname),
    ),
  );
  for (const alert of alerts) assert.ok(firing.has(alert.alert), `${alert.alert} has no firing test`);
});

test('the chart ships the same rules as a PrometheusRule when asked to', async () => {
  const copy = readFileSync(here('../helm/mediagate/files/alerts.yml'), 'utf8');
  assert.equal(
    copy,
    readFileSync(rulesFile, 'utf8'),
    'deploy/helm/mediagate/files/alerts.yml is out of date',
  );
  const values = { worker: { keda: { enabled: false } } };
  assert.equal((await renderChart(values)).filter((m) => m.kind === 'PrometheusRule').length, 0);
  const manifests = await renderChart({
    ...values,
    metrics: { prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } } },
  });
  const [rule] = manifests.filter((m) => m.kind === 'PrometheusRule');
  assert.ok(rule, 'no PrometheusRule rendered');
  assert.equal(rule.metadata.labels.release, 'kube-prometheus-stack');
  assert.deepEqual(rule.spec, { groups: rules.groups });
});
