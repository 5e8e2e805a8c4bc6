import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { MediaView } from '../contracts/media.ts';
import { freePort } from '../deploy/ports.ts';
import { uploadAs } from './bad-input/fixtures.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { type SightengineDouble, startSightengineDouble } from './vendors/sightengine-double.ts';

// Videos of 10 s or more are judged by Sightengine's asynchronous video API (its double). The vendor is
// outside: it reaches the API through a public gateway, and storage through S3_PUBLIC_ENDPOINT.
let double: SightengineDouble;
let platform: Platform;
let gateway: Server;
let video: Buffer;

before(async () => {
  double = await startSightengineDouble();
  const gatewayPort = await freePort();
  gateway = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const answer = await fetch(`${platform.apiUrl}${req.url}`, {
      method: req.method,
      headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
      body: Buffer.concat(chunks),
    });
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? '' });
    res.end(Buffer.from(await answer.arrayBuffer()));
  });
  await new Promise<void>((resolve) => gateway.listen(gatewayPort, '127.0.0.1', resolve));
  const dir = await mkdtemp(join(tmpdir(), 'mediagate-async-'));
  const path = join(dir, 'twelve-seconds.mp4');
  const h264 = '-c:v libx264 -preset ultrafast -pix_fmt yuv420p -movflags +faststart'.split(' ');
  const source = 'testsrc=duration=12:size=160x120:rate=5';
  await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', source, ...h264, path]);
  video = await readFile(path);
  await rm(dir, { recursive: true, force: true });
  platform = await startPlatform({
    publicS3Proxy: true,
    env: {
      SIGHTENGINE_API_USER: double.apiUser,
      SIGHTENGINE_API_SECRET: double.apiSecret,
      SIGHTENGINE_BASE_URL: double.baseUrl,
      MODERATION_WEBHOOK_SECRET: 'whsec_end_to_end_async_secret',
      MODERATION_ASYNC_MIN_SECONDS: '10',
      MODERATION_CALLBACK_BASE_URL: `http://127.0.0.1:${gatewayPort}`,
      MODERATION_ASYNC_REPOLL_AFTER_SECONDS: '2',
    },
  });
});
after(async () => {
  await platform?.stop();
  await double?.close();
  gateway?.close();
});

const alice = () => apiClient(platform, platform.token('alice'));
const bob = () => apiClient(platform, platform.token('bob'));
const held = () => {
  let release = () => {};
  const hold = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { hold, release };
};

/** A video of `owner`'s, completed (202), processed to ready, and made public by its owner. */
async function publicVideo(owner: ReturnType<typeof apiClient>): Promise<MediaView> {
  const { mediaId, reply } = await uploadAs(owner, video, 'video/mp4');
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  await owner.waitForMedia(mediaId, (m) => m.status !== 'processing');
  const patched = await owner.call<MediaView>('PATCH', `/v1/media/${mediaId}`, { visibility: 'public' });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  return patched.body;
}

/**
 * The edge's answer to `viewer` for the media's thumbnail (every key of a media is read under the same
 * rule; a clip this small gets no MP4 rung, and playlists are answered by the edge itself), its credential
 * stripped from the URL.
 */
async function edgeRead(media: MediaView, viewer?: string): Promise<number> {
  const url = new URL(media.thumbnailUrl ?? '');
  url.search = '';
  const headers: Record<string, string> = viewer ? { authorization: `Bearer ${platform.token(viewer)}` } : {};
  return (await fetch(url, { headers, redirect: 'manual' })).status;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a long video is its owner’s alone until the vendor calls back allowing it, then public', async () => {
  const { hold, release } = held();
  double.video.plan({ hold, ongoing: true, callbacks: 2 });
  const media = await publicVideo(alice());
  assert.equal(media.status, 'ready', JSON.stringify(media.failure));
  const job = double.video.jobs.at(-1);
  assert.equal(job?.fetchedBytes, video.length, 'the vendor downloaded the whole video');
  const publicPort = new URL(platform.s3PublicTraffic?.endpoint ?? '').port;
  assert.equal(new URL(job?.streamUrl ?? '').port, publicPort, 'signed for the public storage address');

  assert.equal((await bob().get(`/v1/media/${media.id}`)).status, 404, 'pending: not public yet');
  assert.equal(await edgeRead(media, 'bob'), 403);
  assert.equal(await edgeRead(media, 'alice'), 302, 'its owner can play it');
  const tagUrl = media.thumbnailUrl ?? '';
  assert.equal((await fetch(tagUrl, { redirect: 'manual' })).status, 302, 'in an <img> tag too (?token=)');

  const released = performance.now();
  release();
  await eventually(
    'public once allowed',
    async () => (await bob().get(`/v1/media/${media.id}`)).status === 200,
  );
  assert.equal(await edgeRead(media, 'bob'), 302);
  assert.equal(await edgeRead(media), 302, 'anyone, as public media');
  assert.deepEqual(
    job?.callbacks.map((c) => [c.sent, c.status, (c.body as { outcome?: string }).outcome]),
    [
      ['ongoing', 200, 'pending'],
      ['finished', 200, 'applied'],
      ['finished', 200, 'ignored'],
    ],
  );
  const ms = Math.round(performance.now() - released);
  console.log(`vendor finishes → public to others (callbacks, status check, 200 ms polling): ${ms} ms`);
});

test('a rejection takes the video down, and the same bytes another user holds', async () => {
  const target = held();
  const twin = held();
  double.video.plan({ hold: target.hold, scores: { 'gore.prob': 0.93 } }, { hold: twin.hold });
  const mine = await publicVideo(alice());
  const theirs = await publicVideo(bob());
  assert.equal(await edgeRead(theirs, 'bob'), 302);

  target.release();
  for (const [client, media] of [
    [alice(), mine],
    [bob(), theirs],
  ] as const) {
    const seen = await client.waitForMedia(media.id, (m) => m.status === 'rejected', 30_000);
    assert.equal(seen.failure?.code, 'moderation_rejected');
    assert.match(seen.failure?.detail ?? '', /gore 0\.93/);
  }
  await eventually('gone at the edge', async () => (await edgeRead(theirs, 'bob')) === 410);
  twin.release();
  await double.video.settled();
  const late = double.video.jobs.at(-1)?.callbacks.at(-1);
  assert.deepEqual(
    [late?.status, (late?.body as { outcome?: string } | undefined)?.outcome],
    [200, 'ignored'],
  );
});

test('a callback that never comes: the re-poll sweep settles the job from the status endpoint', async () => {
  double.video.plan({ callbacks: 0 });
  const media = await publicVideo(alice());
  const job = double.video.jobs.at(-1);
  await eventually(
    'public via the sweep',
    async () => (await bob().get(`/v1/media/${media.id}`)).status === 200,
  );
  assert.deepEqual(job?.callbacks, []);
  assert.ok((job?.statusQueries ?? 0) >= 1, 'the sweep asked the vendor');
});
