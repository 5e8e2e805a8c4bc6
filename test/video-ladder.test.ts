import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import type { MediaView } from '../contracts/media.ts';
import { makeH264Clip, makeRotatedPhoneClip } from '../worker/video/test-fixtures.ts';
import { apiClient, uploadBytes } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';

/**
 * The video ladder end to end, on the in-process S3 server `npm start` runs, which (like AWS S3) refuses a
 * presigned GET that also carries an `Authorization` header: the case of players that resend theirs.
 */
const run = promisify(execFile);
let platform: Platform;
let dir: string;

before(async () => {
  // The whole-file pipeline's ladder (fMP4 HLS cut every 6 s, copied rungs); chunked videos' segments are
  // their chunks, aligned across rungs too (test/video-chunks.test.ts).
  platform = await startPlatform({ s3: 'embedded', env: { VIDEO_CHUNK_SECONDS: '0' } });
  dir = await mkdtemp(join(tmpdir(), 'mediagate-video-ladder-'));
});
after(async () => {
  await platform?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const alice = () => apiClient(platform, platform.token('alice'));

async function uploadUntilSettled(path: string, contentType: string): Promise<MediaView> {
  const { mediaId, complete } = await uploadBytes(alice(), await readFile(path), contentType);
  assert.equal(complete.status, 202, JSON.stringify(complete.body));
  return alice().waitForMedia(mediaId, (m) => m.status !== 'processing', 180_000);
}

describe('the ladder plays the same through the edge, rung to rung, for a Bearer-only player', () => {
  /** What ffprobe sees through the edge, sending the header on every request as video_player does. */
  async function probeAsPlayer(url: string) {
    const bearer = `Authorization: Bearer ${platform.token('alice')}\r\n`;
    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-headers', bearer, '-print_format', 'json', '-show_streams', url],
    ]);
    const streams = JSON.parse(stdout).streams as {
      codec_type: string;
      width?: number;
      height?: number;
      bit_rate?: string;
      side_data_list?: { rotation?: number }[];
    }[];
    const video = streams.find((s) => s.codec_type === 'video');
    const turned =
      Math.abs(video?.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0) === 90;
    const [w, h] = [video?.width ?? 0, video?.height ?? 0];
    const audio = streams.find((s) => s.codec_type === 'audio');
    return {
      orientation: (turned ? w > h : h > w) ? 'portrait' : 'landscape',
      audioBitrate: Number(audio?.bit_rate ?? Number.NaN),
    };
  }
  const bare = (url: string) => url.split('?')[0] as string;
  const hlsOf = (media: MediaView) => bare(media.variants.find((v) => v.quality === 'hls')?.url ?? '');
  const rungsOf = (media: MediaView) =>
    media.variants.filter((v) => /^(low|medium|high|\d+p)$/.test(v.quality));

  test('a portrait phone clip: every rung, MP4 and HLS (the copied one too), is portrait; audio never above the source', async () => {
    // 854×480 turned 90°, keyframes every 2 s and a modest bitrate: 480p is copied, 360p encoded.
    const clip = await makeRotatedPhoneClip(dir, {
      width: 854,
      height: 480,
      seconds: 4,
      extra: ['-g', '50', '-b:v', '900k'],
    });
    const phone = await uploadUntilSettled(clip, 'video/mp4');
    assert.equal(phone.status, 'ready', JSON.stringify(phone.failure));
    assert.deepEqual(
      rungsOf(phone)
        .map((v) => [v.quality, v.width, v.height])
        .sort(),
      [
        ['480p', 480, 854],
        ['low', 360, 640],
      ],
    );
    const master = await fetch(hlsOf(phone), {
      headers: { authorization: `Bearer ${platform.token('alice')}` },
    });
    const variants = (await master.text()).split('\n').filter((line) => line.startsWith('http'));
    assert.equal(variants.length, 2);
    for (const url of [...variants, ...rungsOf(phone).map((v) => bare(v.url))]) {
      const seen = await probeAsPlayer(url);
      assert.equal(seen.orientation, 'portrait', url);
      // The fixture's AAC is 96 kb/s: copied or re-encoded lower, never inflated.
      if (url.endsWith('.mp4')) assert.ok(seen.audioBitrate <= 96_000 * 1.02, `${url}: ${seen.audioBitrate}`);
    }
  });

  test('a Bearer read of a rendition is the same bytes as the ?token= redirect, with ranges; figures printed', async () => {
    const clip = await makeH264Clip(dir, 'bytes.mp4', { width: 854, height: 480, seconds: 6 });
    const media = await uploadUntilSettled(clip, 'video/mp4');
    const rung = rungsOf(media).find((v) => v.quality === 'low');
    assert.ok(rung);
    const headers = { authorization: `Bearer ${platform.token('alice')}` };
    /** The fastest of three reads: the first pays for connections, not for the path. */
    const timed = async (url: string, init?: RequestInit) => {
      let best = Number.POSITIVE_INFINITY;
      let body = Buffer.alloc(0);
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        body = Buffer.from(await (await fetch(url, init)).arrayBuffer());
        best = Math.min(best, performance.now() - started);
      }
      return { body, ms: best };
    };
    const { body: proxied, ms: proxiedMs } = await timed(bare(rung.url), { headers });
    const { body: redirected, ms: redirectedMs } = await timed(rung.url);
    assert.equal(proxied.length, rung.bytes);
    assert.ok(proxied.equals(redirected), 'the same bytes either way');
    const tail = await fetch(bare(rung.url), { headers: { ...headers, range: 'bytes=-100' } });
    assert.equal(tail.status, 206);
    assert.ok(Buffer.from(await tail.arrayBuffer()).equals(proxied.subarray(-100)));
    const beyond = await fetch(bare(rung.url), { headers: { ...headers, range: `bytes=${rung.bytes}-` } });
    assert.equal(beyond.status, 416);
    process.stdout.write(
      `# ${rung.bytes} bytes: Bearer through the edge ${proxiedMs.toFixed(1)} ms, ` +
        `?token= 302 + storage ${redirectedMs.toFixed(1)} ms\n`,
    );
  });

  test('keyframes every 8 s: every rung’s HLS segments cut at the same instants, 6 s apart', async () => {
    const clip = await makeH264Clip(dir, 'sparse-keyframes.mp4', {
      width: 854,
      height: 480,
      seconds: 14,
      extra: ['-g', '200', '-b:v', '900k'],
    });
    const media = await uploadUntilSettled(clip, 'video/mp4');
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    const headers = { authorization: `Bearer ${platform.token('alice')}` };
    const master = await (await fetch(hlsOf(media), { headers })).text();
    const cuts = [];
    for (const url of master.split('\n').filter((line) => line.startsWith('http'))) {
      const playlist = await (await fetch(url, { headers })).text();
      cuts.push([...playlist.matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Math.round(Number(m[1]) * 10) / 10));
    }
    assert.equal(cuts.length, 2);
    assert.deepEqual(cuts, [
      [6, 6, 2],
      [6, 6, 2],
    ]);
  });
});
