import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { freePort } from '../deploy/ports.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { makeH264Clip } from '../worker/video/test-fixtures.ts';
import { apiClient } from './client.ts';
import { launchChromium, screenshot, signIn, watchErrors } from './console/browser.ts';
import { startOneOrigin } from './console/one-origin.ts';
import { type Platform, startPlatform } from './harness.ts';
import { completeUpload, storeUpload, traceMedia } from './media-flow.ts';

// The web console in a real Chromium against the separate api/worker/edge processes: a user uploads through
// Uppy and manages the gallery; an operator redrives a dead-lettered upload and replays a media.
let platform: Platform;
let browser: Browser;
let dir: string;
let consoleUrl: string;
let origin: Server;
const errors: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-console-'));
  // The console and the media on one origin (the edge's public URL is the gateway's), as one domain serves
  // them in production: hls.js reads playlists with XHR, which a cross-origin edge would have to allow.
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  origin = await startOneOrigin(
    port,
    () => platform.apiUrl,
    () => platform.edgeUrl,
  );
  [platform, browser] = await Promise.all([
    startPlatform({
      bus: 'embedded',
      s3: 'embedded',
      env: { BUS_RETRY_BASE_MS: '100', EDGE_PUBLIC_URL: publicUrl },
    }),
    launchChromium(),
  ]);
  consoleUrl = `${publicUrl}/console/`;
});
after(async () => {
  await browser?.close();
  origin?.close();
  await platform?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function newPage(width = 1280, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  errors.push(...watchErrors(page));
  return page;
}

/** A JPEG of noise: about 12 MB, so the upload takes three 5 MiB parts. */
async function noisyJpeg(): Promise<Buffer> {
  const width = 4000;
  const height = 3000;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.imul(i, 2654435761) >>> 24;
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 97 })
    .toBuffer();
}

const cards = (page: Page) => page.locator('ol.gallery > li.card');

describe('the upload page', () => {
  let page: Page;

  test('a user drops a 12 MB photo, a small photo and a video, sees the upload progress and each become ready', async () => {
    const big = await noisyJpeg();
    assert.ok(big.length > 11 * 1024 * 1024, `the photo is ${big.length} bytes`);
    const bigPath = join(dir, 'big.jpg');
    const smallPath = join(dir, 'small.jpg');
    await writeFile(bigPath, big);
    await writeFile(smallPath, await makeJpegWithGps(800, 600, { lat: 1, lon: 2 }));
    const videoPath = await makeH264Clip(dir, 'clip.mp4', { width: 1280, height: 720, seconds: 6 });

    page = await newPage();
    await signIn(page, consoleUrl, platform.token('alice'));
    await page.getByRole('heading', { name: 'Upload' }).waitFor();
    // Slow the wire enough that the status bar is seen mid-upload.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 6 * 1024 * 1024,
    });
    await page.locator('.uppy-Dashboard-input').first().setInputFiles([bigPath, videoPath, smallPath]);
    const bar = page.locator('.uppy-StatusBar-progress[role="progressbar"]');
    await assertEventually(async () => {
      const now = Number(await bar.getAttribute('aria-valuenow').catch(() => null));
      return now > 0 && now < 100;
    }, 'the status bar showed progress between 0 and 100 %');
    // Multipart uploads are resumable: pause holds them, resume carries on.
    await page.getByRole('button', { name: /pause/i }).first().click();
    await page
      .getByRole('button', { name: /resume/i })
      .first()
      .click();
    await screenshot(page, 'upload-progress');
    await page.locator('.uppy-StatusBar.is-complete').waitFor({ timeout: 60_000 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });

    await assertEventually(async () => (await cards(page).count()) === 3, 'three cards in the gallery');
    // While the video is worked on, its card follows the live status: one progress bar per rendition.
    await page
      .locator('li.card[data-kind="video"] ul.progress progress')
      .first()
      .waitFor({ timeout: 60_000 });
    await screenshot(page, 'processing');
    await page.locator('li.card[data-status="ready"]').nth(2).waitFor({ timeout: 90_000 });
    const mine = await apiClient(platform, platform.token('alice')).get<{ items: { status: string }[] }>(
      '/v1/media?owner=me',
    );
    assert.deepEqual(
      mine.body.items.map((m) => m.status),
      ['ready', 'ready', 'ready'],
    );
  });

  test('photos show their thumbhash placeholder, then the WebP rung', async () => {
    const photo = page.locator('li.card[data-kind="image"]').first();
    const placeholder = photo.locator('img.placeholder');
    assert.match((await placeholder.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
    const full = photo.locator('img.full.loaded');
    await full.waitFor();
    assert.match((await full.getAttribute('src')) ?? '', /\/m\/.+\.webp\?token=/);
    const width = await full.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    assert.ok(width > 0, 'the image decoded');
    await screenshot(page, 'gallery');
  });

  test('the video plays through hls.js, its rungs listed: its currentTime advances', async () => {
    const video = page.locator('li.card[data-kind="video"] video[data-engine="hls.js"]');
    await video.waitFor();
    await page
      .locator('li.card[data-kind="video"] .rungs')
      .filter({ hasText: /\d+p \d+ kb\/s/ })
      .waitFor();
    await video.evaluate((v) => (v as unknown as { play(): Promise<void> }).play());
    await assertEventually(
      async () => (await video.evaluate((v) => (v as unknown as { currentTime: number }).currentTime)) > 0.5,
      'the video played half a second',
    );
  });

  test('reorder: a photo dragged onto the one before it takes its slot; asked into slot 0 with the keyboard it lands after the video, and the page says why', async () => {
    assert.equal(await cards(page).first().getAttribute('data-kind'), 'video', 'the video holds slot 0');
    const lastId = await cards(page).nth(2).getAttribute('data-media-id');
    await cards(page).nth(2).dragTo(cards(page).nth(1));
    await assertEventually(
      async () => (await cards(page).nth(1).getAttribute('data-media-id')) === lastId,
      'the photo moved to slot 1',
    );
    await cards(page)
      .nth(1)
      .getByRole('button', { name: /earlier/ })
      .press('Enter');
    await page.getByRole('status').filter({ hasText: 'slot 0 stays the video' }).waitFor();
    assert.equal(await cards(page).first().getAttribute('data-kind'), 'video');
  });

  test('visibility: one made public, then private again; one deleted', async () => {
    const alice = apiClient(platform, platform.token('alice'));
    const card = cards(page).nth(1);
    const id = (await card.getAttribute('data-media-id')) ?? '';
    const toggle = card.getByRole('button', { name: /Private|Public/ });
    await toggle.click();
    await assertEventually(async () => (await toggle.getAttribute('aria-pressed')) === 'true', 'public');
    assert.equal((await alice.get<{ visibility: string }>(`/v1/media/${id}`)).body.visibility, 'public');
    await toggle.click();
    await assertEventually(async () => (await toggle.getAttribute('aria-pressed')) === 'false', 'private');
    assert.equal((await alice.get<{ visibility: string }>(`/v1/media/${id}`)).body.visibility, 'private');

    await card.getByRole('button', { name: /^Delete/ }).click();
    await card.getByRole('button', { name: 'Really delete' }).click();
    await assertEventually(async () => (await cards(page).count()) === 2, 'two cards left');
    assert.equal((await alice.get(`/v1/media/${id}`)).status, 404);
  });

  test('a phone-sized viewport shows the gallery without sideways scrolling', async () => {
    const phone = await newPage(390, 844);
    await signIn(phone, consoleUrl, platform.token('alice'));
    await cards(phone).nth(1).waitFor();
    const overflow = Number(await phone.evaluate('document.documentElement.scrollWidth - innerWidth'));
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await screenshot(phone, 'gallery-phone');
    await phone.close();
  });
});

describe('the operations console', () => {
  let page: Page;
  let mediaId: string;

  test('an operator finds a dead-lettered upload, reads its error, redrives it and sees it become ready', async () => {
    const alice = apiClient(platform, platform.token('alice'));
    const photo = await makeJpegWithGps(640, 480, { lat: 7, lon: 8 });
    // The worker is away while the original vanishes: every attempt finds nothing, and the bus gives up.
    await platform.roles.worker.stop();
    const upload = await storeUpload(alice, photo);
    mediaId = upload.session.mediaId;
    await completeUpload(alice, upload);
    const objectKey = ((await traceMedia(platform, mediaId)).media as { objectKey?: string }).objectKey ?? '';
    await platform.storage.delete([objectKey]);
    await platform.restart('worker');

    page = await newPage();
    await signIn(page, consoleUrl, platform.token('ops', { admin: true }));
    await page.getByRole('link', { name: 'Operations' }).click();
    await page.getByText('events waiting in the outbox').waitFor();
    await screenshot(page, 'ops-overview');
    await page.getByRole('tab', { name: 'Dead letters' }).click();
    const letter = page.locator(`li.letter[data-key="${mediaId}"]`);
    await assertEventually(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return (await letter.count()) === 1;
    }, 'the upload was dead-lettered');
    const error = (await letter.locator('.error-text').textContent()) ?? '';
    assert.ok(error.length > 0, 'the dead letter shows its error');
    await screenshot(page, 'ops-dead-letters');

    await platform.storage.put(objectKey, photo, 'image/jpeg', photo.length);
    await letter.getByRole('button', { name: /Redrive the dead letter/ }).click();
    await page.getByRole('status').filter({ hasText: '1 media back to processing' }).waitFor();

    await page.getByRole('tab', { name: 'Media' }).click();
    await page.getByLabel('Media id').fill(mediaId);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator(`tr[data-media-id="${mediaId}"] button`).click();
    const status = page.getByTestId('detail-status');
    await assertEventually(async () => {
      await page.getByRole('button', { name: 'Refresh' }).click();
      return (await status.textContent()) === 'ready';
    }, 'the redriven media became ready');
  });

  test('a replay confirmed in the console shows up in the trace', async () => {
    await page.getByRole('button', { name: 'Replay this media…' }).click();
    await page.getByRole('button', { name: 'Review replay' }).click();
    const confirmation = page.getByRole('alertdialog');
    const said = (await confirmation.textContent()) ?? '';
    const promised = new RegExp(
      `Publish (\\d+) event\\(s\\) of media ${mediaId} again as new events: its optimize request`,
    ).exec(said);
    assert.ok(promised, said);
    await confirmation.getByRole('button', { name: 'Replay now' }).click();
    // The confirmation said exactly what the route then did.
    await page
      .getByRole('status')
      .filter({ hasText: `Replayed ${promised[1]} event(s).` })
      .waitFor();

    await page.getByRole('tab', { name: 'Media' }).click();
    await page.locator('li[data-replay="yes"]').first().waitFor();
    await screenshot(page, 'ops-media-detail');
  });

  test('a media detail fits a phone', async () => {
    const phone = await newPage(390, 844);
    await signIn(phone, consoleUrl, platform.token('ops', { admin: true }));
    await phone.getByRole('link', { name: 'Operations' }).click();
    await phone.getByRole('tab', { name: 'Media' }).click();
    await phone.locator(`tr[data-media-id="${mediaId}"] button`).click();
    await phone.getByTestId('detail-status').waitFor();
    const overflow = Number(await phone.evaluate('document.documentElement.scrollWidth - innerWidth'));
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
    await screenshot(phone, 'ops-media-phone');
    await phone.close();
  });

  test('the tabs answer the keyboard', async () => {
    await page.getByRole('tab', { name: 'Overview' }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByRole('tab', { name: 'Dead letters' }).getAttribute('aria-selected'), 'true');
  });

  test('the dev sign-in does not exist outside mediagate dev; unknown and crafted file names are 4xx', async () => {
    const reply = await fetch(`${platform.apiUrl}/console/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'mallory', admin: true }),
    });
    // Only the console's files are served under /console/: reading them is all that path allows.
    assert.equal(reply.status, 405);
    assert.equal(reply.headers.get('allow'), 'GET, HEAD');
    assert.doesNotMatch(await reply.text(), /token"/);
    const missing = await fetch(`${platform.apiUrl}/console/app-NOSUCH.js`);
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /^application\/problem\+json/);
    const traversal = await fetch(`${platform.apiUrl}/console/..%2f..%2fpackage.json`);
    assert.equal(traversal.status, 400);
  });

  test('no page logged a console error', () => {
    assert.deepEqual(errors, []);
  });
});

async function assertEventually(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `never: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
