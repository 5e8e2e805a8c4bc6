import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { option } from '../cli/args.ts';
import {
  type Dashboard,
  dashboardHtml,
  pageData,
  type RangeSeries,
} from '../deploy/observability/dashboard-html.ts';
import { startPrometheus } from '../deploy/observability/prometheus-server.ts';
import { apiClient } from '../test/client.ts';
import { launchChromium } from '../test/console/browser.ts';
import { startPlatform } from '../test/harness.ts';
import { createSession, readThroughEdge, sendAndComplete, uploadPhoto } from '../test/photos.ts';
import { makePhotoLikeJpeg } from './lib.ts';

// docs/dashboard-overview.png from a real run: the api, worker and edge as separate processes, a real
// Prometheus scraping them while uploaders send photos for a few minutes (a rejection and refused reads
// among them), then every overview panel's PromQL evaluated over the run and drawn with uPlot in headless
// Chromium. No Grafana is needed: the page follows the dashboard JSON's grid, titles, legends and units.
// The panels' rates look back 5 minutes, so a run shorter than that draws only their ramp: 7 by default.
//
//   npm run docs:dashboard -- [--minutes 7] [--uploaders 3] [--out docs/dashboard-overview.png]

const args = process.argv.slice(2);
const minutes = Number(option(args, '--minutes') ?? 7);
const uploaders = Number(option(args, '--uploaders') ?? 3);
const out =
  option(args, '--out') ?? fileURLToPath(new URL('../docs/dashboard-overview.png', import.meta.url));
const dashboardFile = new URL('../deploy/observability/dashboards/overview.json', import.meta.url);
const stepSeconds = 5;

const dashboard = JSON.parse(await readFile(dashboardFile, 'utf8')) as Dashboard;
const platform = await startPlatform({ bus: 'embedded', s3: 'embedded' });
const prometheus = await startPrometheus(platform.metricsUrls).catch(async (error) => {
  await platform.stop();
  throw error;
});
const workDir = await mkdtemp(join(tmpdir(), 'dashboard-overview-'));
try {
  const started = Math.floor(Date.now() / 1000);
  const ready = await uploadFor(minutes * 60_000);
  // Two more scrapes, so the last results are in the series.
  await sleep(3000);
  const ended = Math.floor(Date.now() / 1000);
  const times: number[] = [];
  for (let t = started - (started % stepSeconds); t <= ended; t += stepSeconds) times.push(t);
  const results = new Map<string, RangeSeries[]>();
  for (const target of dashboard.panels.flatMap((panel) => panel.targets))
    results.set(target.expr, await queryRange(target.expr, times[0] as number, times.at(-1) as number));
  const subtitle =
    `A real run: api, worker and edge processes, ${uploaders} uploaders of 2 MP photos for ${minutes} min ` +
    `(${ready} ready), scraped every second by Prometheus; rendered ${new Date().toISOString().slice(0, 16)}Z`;
  const page = join(workDir, 'overview.html');
  await writeFile(page, dashboardHtml(pageData(dashboard, results, times, subtitle)));
  await screenshot(page);
  console.log(`${out}: ${dashboard.panels.length} panels, ${times.length} points each`);
} finally {
  await prometheus.stop();
  await platform.stop();
  await rm(workDir, { recursive: true, force: true });
}

/** Photos to ready from `uploaders` users until the time is up; one upload rejected, reads allowed and refused. */
async function uploadFor(ms: number): Promise<number> {
  const photos = await Promise.all(
    Array.from({ length: 8 }, (_, i) => makePhotoLikeJpeg(1600, 1200, { seed: i + 1 })),
  );
  const until = Date.now() + ms;
  let ready = 0;
  await Promise.all(
    Array.from({ length: uploaders }, async (_, lane) => {
      const client = apiClient(platform, platform.token(`uploader-${lane}`));
      for (let i = lane; Date.now() < until; i += uploaders) {
        const media = await uploadPhoto(client, photos[i % photos.length] as Buffer);
        if (media.status === 'ready') ready++;
        if (media.url) await readThroughEdge(media.url, platform.token(`uploader-${lane}`));
        // A reader without the URL's capability is refused: the edge panel shows decisions, not only redirects.
        if (media.url && i % 4 === 0) await readThroughEdge(media.url.split('?')[0] as string, 'not-a-token');
        if (i % 10 === 5) {
          const text = Buffer.from('not a photo at all '.repeat(100));
          await sendAndComplete(client, (await createSession(client, text)).body, text);
        }
      }
    }),
  );
  return ready;
}

async function queryRange(expr: string, start: number, end: number): Promise<RangeSeries[]> {
  const query = new URLSearchParams({
    query: expr,
    start: String(start),
    end: String(end),
    step: `${stepSeconds}`,
  });
  const response = await fetch(`${prometheus.url}/api/v1/query_range?${query}`);
  const answer = (await response.json()) as {
    status: string;
    error?: string;
    data?: { result: RangeSeries[] };
  };
  if (answer.status !== 'success') throw new Error(`${expr}: ${answer.error}`);
  return answer.data?.result ?? [];
}

async function screenshot(page: string): Promise<void> {
  const browser = await launchChromium();
  try {
    const tab = await browser.newPage({ viewport: { width: 1600, height: 900 }, deviceScaleFactor: 1 });
    await tab.goto(`file://${page}`);
    await tab.waitForSelector('body[data-drawn="true"]');
    await tab.screenshot({ path: out, fullPage: true });
  } finally {
    await browser.close();
  }
}
