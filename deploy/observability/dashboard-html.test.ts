// The static page docs/dashboard-overview.png is rendered from (bench/dashboard-overview.ts): every overview
// panel is drawn with its title, legends and unit, and a panel the page cannot draw fails loudly instead of
// vanishing from the screenshot.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { launchChromium } from '../../test/console/browser.ts';
import { type Dashboard, dashboardHtml, legendOf, pageData, type RangeSeries } from './dashboard-html.ts';

const overview = JSON.parse(
  await readFile(new URL('./dashboards/overview.json', import.meta.url), 'utf8'),
) as Dashboard;
const times = [1000, 1005, 1010, 1015];

/** Two series per query, labelled with every label any legend of the dashboard names. */
function fakeResults(dashboard: Dashboard): Map<string, RangeSeries[]> {
  const results = new Map<string, RangeSeries[]>();
  for (const target of dashboard.panels.flatMap((p) => p.targets)) {
    const names = [...(target.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map(
      (m) => m[1] as string,
    );
    results.set(
      target.expr,
      ['one', 'two'].map((value, i) => ({
        metric: Object.fromEntries(names.map((name) => [name, `${name}-${value}`])),
        values: times.map((t, j) => [t, String(i + j * 0.5)] as [number, string]),
      })),
    );
  }
  return results;
}

test('every overview panel and every query of it is on the page, with its legend filled in', () => {
  const data = pageData(overview, fakeResults(overview), times, 'a run');
  assert.deepEqual(
    data.panels.map((p) => p.title),
    overview.panels.map((p) => p.title),
  );
  for (const [i, panel] of overview.panels.entries()) {
    const drawn = data.panels[i];
    assert.equal(drawn?.series.length, panel.targets.length * 2, panel.title);
    for (const series of drawn?.series ?? []) {
      assert.ok(!series.label.includes('{{'), `${panel.title}: ${series.label}`);
      assert.equal(series.values.length, times.length);
    }
  }
  // As in Grafana, no panel leaves an empty row above it: each rests on the top or on a panel above it.
  for (const { title, gridPos: at } of data.panels) {
    const resting = data.panels.some(
      ({ gridPos: other }) => other.y + other.h === at.y && other.x < at.x + at.w && at.x < other.x + other.w,
    );
    assert.ok(at.y === 0 || resting, `${title} floats at row ${at.y}`);
  }
  assert.equal(legendOf('p95 {{kind}}', { kind: 'image' }), 'p95 image');
  assert.equal(legendOf(undefined, { job: 'api' }), 'job="api"');
});

test('a panel type the page cannot draw is an error naming the panel', () => {
  const gauge = {
    ...overview,
    panels: [{ ...(overview.panels[0] as Dashboard['panels'][0]), type: 'gauge' }],
  };
  assert.throws(() => pageData(gauge, new Map(), times, ''), /Uploads completed.*gauge/);
});

test('in Chromium the page draws a number for each stat, a chart for each time series, and "No data" for an empty one', async () => {
  const results = fakeResults(overview);
  const emptied = overview.panels.find((p) => p.type === 'timeseries') as Dashboard['panels'][0];
  for (const target of emptied.targets) results.set(target.expr, []);
  // A hostile label value stays text: the page's script and markup are not broken by it.
  const first = overview.panels[0]?.targets[0]?.expr as string;
  results.set(first, [
    {
      metric: {},
      values: [
        [1000, '1'],
        [1015, '42'],
      ],
    },
  ]);
  const html = dashboardHtml(pageData(overview, results, times, '</script><b>subtitle</b>'));
  const dir = await mkdtemp(join(tmpdir(), 'dashboard-html-'));
  const browser = await launchChromium();
  try {
    await writeFile(join(dir, 'page.html'), html);
    const page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`file://${join(dir, 'page.html')}`);
    await page.waitForSelector('body[data-drawn="true"]');
    assert.deepEqual(errors, []);
    assert.equal(await page.locator('header p').textContent(), '</script><b>subtitle</b>');
    for (const panel of overview.panels) {
      const box = page.locator(`section[data-panel="${panel.title}"]`);
      assert.equal(await box.locator('h2').textContent(), panel.title);
      if (panel === emptied) assert.equal(await box.locator('.empty').textContent(), 'No data');
      else if (panel.type === 'stat') assert.ok((await box.locator('.stat').textContent())?.trim());
      else assert.equal(await box.locator('canvas').count(), 1, panel.title);
    }
    assert.equal(
      await page.locator(`section[data-panel="${overview.panels[0]?.title}"] .stat`).textContent(),
      '42',
    );
  } finally {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
  }
});
