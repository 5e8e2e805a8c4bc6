// A real Prometheus (Debian's binary) scraping the end-to-end stack's roles: after a few uploads, a
// rejection and reads through the edge, every dashboard panel's query and every alert expression evaluates
// without error, the rules evaluate healthy, and the panels an operator looks at first show data.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { apiClient } from '../../test/client.ts';
import { type Platform, startPlatform } from '../../test/harness.ts';
import { createSession, readThroughEdge, sendAndComplete, uploadPhoto } from '../../test/photos.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';
import { type PrometheusServer, startPrometheus } from './prometheus-server.ts';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const rulesFile = here('./prometheus/alerts.yml');

/** The panels an operator reads first: after a few uploads each must return at least one series. */
const mainPanels = [
  'Uploads completed (per minute)',
  'Media ready (per minute)',
  'Time from complete to ready',
  'API requests by route',
  'API errors by code',
  'Edge reads by outcome',
  'Outbox oldest unpublished',
  'Dead letters waiting',
  'Worker job duration p95',
  'Worker step duration p95',
  'Gate duration p95',
  'Gate bytes read p95',
  'Consumer lag by group',
  'Relay publish rate by topic',
  'Processes up',
];

let platform: Platform;
let server: PrometheusServer | undefined;
let promUrl: string;

before(async () => {
  platform = await startPlatform();
  server = await startPrometheus(platform.metricsUrls, { rulesFile });
  promUrl = server.url;
  try {
    await runUploads();
  } catch (error) {
    for (const role of Object.values(platform.roles))
      console.log(`--- ${role.role}\n${role.output.slice(-40).join('\n')}`);
    throw error;
  }
});

/** Four photos to ready, one rejection, reads allowed and refused; then waits for Prometheus to see them. */
async function runUploads(): Promise<void> {
  const alice = apiClient(platform, platform.token('alice'));
  const photos = await Promise.all(
    [1, 2, 3, 4].map((seed) => makeJpegWithGps(1600 + seed * 8, 1200, { lat: 40 + seed, lon: 2 })),
  );
  // One upload first, so every series exists before the rest: rates need two samples of a series.
  const first = await uploadPhoto(alice, photos[0] as Buffer);
  await sleep(3000);
  const rest = await Promise.all(photos.slice(1).map((photo, i) => uploadPhoto(alice, photo, `p${i}.jpg`)));
  const ready = [first, ...rest];
  for (const media of ready) assert.equal(media.status, 'ready');
  // A rejected upload (declared a JPEG, sent text) and reads the edge allows and refuses.
  const text = Buffer.from('not a photo at all '.repeat(100));
  const session = await createSession(alice, text);
  assert.equal((await sendAndComplete(alice, session.body, text)).status, 422);
  const urls = ready.map((media) => media.url ?? assert.fail(`media ${media.id} has no url`));
  for (const url of urls) assert.equal((await readThroughEdge(url, platform.token('alice'))).status, 302);
  // Without the URL's own ?token= capability, another user is refused.
  const bare = (urls[0] as string).split('?')[0] as string;
  assert.equal((await readThroughEdge(bare, platform.token('mallory'))).status, 403);
  // Until Prometheus has scraped the last result (one scrape a second, a few to be sure).
  const until = Date.now() + 30_000;
  while ((await scalar('sum(mediagate_media_ready_total)')) < ready.length) {
    assert.ok(Date.now() < until, 'Prometheus never saw every media ready');
    await sleep(500);
  }
  await sleep(3000);
}

after(async () => {
  await server?.stop();
  await platform?.stop();
});

interface QueryAnswer {
  status: string;
  error?: string;
  data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
}

async function query(expr: string): Promise<QueryAnswer> {
  const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
  return (await response.json()) as QueryAnswer;
}

async function scalar(expr: string): Promise<number> {
  const answer = await query(expr);
  return Number(answer.data?.result[0]?.value[1] ?? 0);
}

async function panels(): Promise<{ dashboard: string; title: string; expr: string }[]> {
  const folder = here('./dashboards');
  const out = [];
  for (const file of (await readdir(folder)).filter((f) => f.endsWith('.json'))) {
    const dashboard = JSON.parse(await readFile(join(folder, file), 'utf8'));
    for (const panel of dashboard.panels) {
      for (const target of panel.targets)
        out.push({ dashboard: file, title: panel.title, expr: target.expr });
    }
  }
  return out;
}

test('every dashboard query evaluates without error, and the main panels return data', async () => {
  const all = await panels();
  assert.ok(all.length >= 30, `${all.length} queries`);
  const withData = new Set<string>();
  for (const { dashboard, title, expr } of all) {
    const answer = await query(expr);
    assert.equal(answer.status, 'success', `${dashboard} "${title}": ${expr}: ${answer.error}`);
    if ((answer.data?.result.length ?? 0) > 0) withData.add(title);
  }
  const empty = new Set(all.map((p) => p.title).filter((title) => !withData.has(title)));
  for (const title of mainPanels) {
    assert.ok(
      all.some((p) => p.title === title),
      `no panel "${title}"`,
    );
    assert.ok(!empty.has(title), `main panel "${title}" returned no data`);
  }
  console.log(`${all.length} panel queries; empty after the run: ${[...empty].join(', ') || 'none'}`);
});

test('every alert expression evaluates, and every rule is healthy in the running Prometheus', async () => {
  const rules = parse(await readFile(rulesFile, 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  for (const rule of rules.groups.flatMap((g) => g.rules)) {
    const answer = await query(rule.expr);
    assert.equal(answer.status, 'success', `${rule.alert}: ${answer.error}`);
  }
  const loaded = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
    data: { groups: { rules: { name: string; health: string; lastError?: string; state: string }[] }[] };
  };
  const evaluated = loaded.data.groups.flatMap((g) => g.rules);
  assert.equal(evaluated.length, rules.groups.flatMap((g) => g.rules).length);
  for (const rule of evaluated) {
    assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError}`);
    // A healthy run of a few uploads trips nothing.
    assert.equal(rule.state, 'inactive', `${rule.name} is ${rule.state}`);
  }
});

test('the funnel counts what happened: uploads created, completed, rejected by code, ready, with no label per media', async () => {
  assert.equal(await scalar('sum(mediagate_uploads_created_total{outcome="session"})'), 5);
  assert.equal(await scalar('sum(mediagate_uploads_completed_total{kind="image"})'), 4);
  assert.equal(await scalar('sum(mediagate_uploads_rejected_total{code="type_mismatch"})'), 1);
  assert.equal(await scalar('sum(mediagate_media_ready_total{kind="image"})'), 4);
  assert.equal(await scalar('sum(mediagate_media_time_to_ready_seconds_count{kind="image"})'), 4);
  assert.equal(
    await scalar('sum(mediagate_worker_job_duration_seconds_count{kind="image",outcome="done"})'),
    4,
  );
  assert.equal(await scalar('sum(mediagate_edge_decision_duration_seconds_count{outcome="forbidden"})'), 1);
  // One optimize request per accepted image; the lifecycle announcements go through the relay beside them.
  assert.equal(await scalar('sum(mediagate_relay_published_events_total{topic="optimize.request"})'), 4);
  assert.ok((await scalar('sum(mediagate_relay_published_events_total{topic="lifecycle"})')) >= 5);
  // Series names and label values never carry a media id, a user id or a URL.
  const series = (await (
    await fetch(`${promUrl}/api/v1/series?match[]={__name__=~"mediagate_.*"}`)
  ).json()) as {
    data: Record<string, string>[];
  };
  const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
  for (const labels of series.data) {
    for (const [name, value] of Object.entries(labels)) {
      assert.ok(!uuid.test(value) && !value.includes('alice') && !value.includes('?'), `${name}="${value}"`);
    }
  }
});
