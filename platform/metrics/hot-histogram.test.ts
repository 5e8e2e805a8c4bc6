import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Histogram, Registry } from 'prom-client';
import { HotHistogram } from './hot-histogram.ts';

const buckets = [0.001, 0.01, 0.1];
const observations: [string, number][] = [
  ['redirect', 0.0004],
  ['redirect', 0.001],
  ['redirect', 0.05],
  ['not_found', 0.2],
  ['redirect', 0.0099],
];

/** The scrape's sample lines, sorted: the order of series is the registry's business. */
const samples = async (registry: Registry) =>
  (await registry.metrics())
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .sort();

test('a scrape reads the same as prom-client’s histogram fed the same observations', async () => {
  const hot = new Registry();
  const histogram = HotHistogram.in(hot, { name: 'reads_seconds', help: 'reads', label: 'outcome', buckets });
  const reference = new Registry();
  const expected = new Histogram({
    name: 'reads_seconds',
    help: 'reads',
    labelNames: ['outcome'],
    buckets,
    registers: [reference],
  });
  for (const [outcome, seconds] of observations) {
    histogram.series(outcome)(seconds);
    expected.labels({ outcome }).observe(seconds);
  }
  assert.deepEqual(await samples(hot), await samples(reference));
  assert.match(await hot.metrics(), /# TYPE reads_seconds histogram/);
});

test('a second registration in one registry is the same histogram; reset empties it', async () => {
  const registry = new Registry();
  const options = { name: 'reads_seconds', help: 'reads', label: 'outcome', buckets };
  const first = HotHistogram.in(registry, options);
  assert.equal(HotHistogram.in(registry, options), first);
  first.series('redirect')(0.002);
  assert.match(await registry.metrics(), /reads_seconds_count\{outcome="redirect"\} 1/);
  registry.resetMetrics();
  assert.doesNotMatch(await registry.metrics(), /reads_seconds_count/);
});
