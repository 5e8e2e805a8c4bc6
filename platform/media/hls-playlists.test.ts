import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { rewritePlaylist } from '../../edge/playlist.ts';
import {
  CLIP_FPS,
  CLIP_SECONDS,
  decodedFrames,
  makeChunkedClip,
} from '../../worker/video/chunks/test-chunks.ts';
import { masterPlaylist, mediaPlaylist } from './hls-playlists.ts';

const segments = [
  { uri: '0.ts', durationSeconds: 6 },
  { uri: '1.ts', durationSeconds: 6.2 },
];

test('while chunks arrive: an EVENT playlist without ENDLIST; done: VOD with ENDLIST', () => {
  const live = mediaPlaylist(segments, { ended: false });
  assert.match(live, /^#EXTM3U\n/);
  assert.match(live, /#EXT-X-PLAYLIST-TYPE:EVENT\n/);
  assert.doesNotMatch(live, /ENDLIST/);
  assert.match(live, /#EXT-X-TARGETDURATION:7\n/, 'the ceiling of the longest segment');
  assert.match(live, /#EXT-X-INDEPENDENT-SEGMENTS\n/);
  assert.match(live, /#EXTINF:6\.000000,\n0\.ts\n#EXTINF:6\.200000,\n1\.ts\n/);
  const done = mediaPlaylist(segments, { ended: true });
  assert.match(done, /#EXT-X-PLAYLIST-TYPE:VOD\n/);
  assert.ok(done.endsWith('#EXT-X-ENDLIST\n'));
  assert.match(mediaPlaylist([{ uri: 'a.ts', durationSeconds: 6 }], { ended: true }), /TARGETDURATION:6\n/);
  assert.match(mediaPlaylist([], { ended: false }), /TARGETDURATION:1\n/);
});

test('the master lists the variants lowest bandwidth first, with resolution and codecs', () => {
  const text = masterPlaylist([
    {
      uri: 'high/index.m3u8',
      bandwidth: 900_000.4,
      width: 1280,
      height: 720,
      codecs: 'avc1.64001f,mp4a.40.2',
    },
    { uri: 'low/index.m3u8', bandwidth: 300_000, width: 640, height: 360 },
  ]);
  assert.equal(
    text,
    [
      '#EXTM3U',
      '#EXT-X-VERSION:3',
      '#EXT-X-INDEPENDENT-SEGMENTS',
      '#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=640x360',
      'low/index.m3u8',
      '#EXT-X-STREAM-INF:BANDWIDTH=900001,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720',
      'high/index.m3u8',
      '',
    ].join('\n'),
  );
});

test('URIs are relative, so the edge signs every one; crafted ones are refused', () => {
  const text = masterPlaylist([{ uri: 'low/index.m3u8', bandwidth: 1, width: 2, height: 2 }]);
  const rewritten = rewritePlaylist(
    text,
    'derived/m/r/hls/master.m3u8',
    (key) => `https://edge/m/${key}?token=t`,
  );
  assert.match(rewritten, /^https:\/\/edge\/m\/derived\/m\/r\/hls\/low\/index\.m3u8\?token=t$/m);
  const media = rewritePlaylist(
    mediaPlaylist(segments, { ended: false }),
    'derived/m/r/hls/low/index.m3u8',
    (key) => `E/${key}`,
  );
  assert.deepEqual(
    media.split('\n').filter((line) => line.startsWith('E/')),
    ['E/derived/m/r/hls/low/0.ts', 'E/derived/m/r/hls/low/1.ts'],
  );
  for (const uri of ['', 'a\n#EXT-X-ENDLIST', '#x', 'https://elsewhere/x.ts', 'file:///etc/passwd'])
    assert.throws(
      () => mediaPlaylist([{ uri, durationSeconds: 1 }], { ended: true }),
      /relative playlist URI/,
    );
});

test('an EVENT playlist of real chunk files plays through ffmpeg while it grows, every frame once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'chunk-playlist-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const clip = await makeChunkedClip(dir);
  const files = clip.chunks.get(clip.renditions[0]?.quality ?? '') ?? [];
  const playlist = join(dir, 'index.m3u8');
  const list = files.map((file, i) => {
    const s = clip.spans[i];
    return { uri: relative(dir, file), durationSeconds: (s?.endSeconds ?? 0) - (s?.startSeconds ?? 0) };
  });
  // A player starts on the EVENT playlist of the first chunks; the rest arrive and the playlist ends.
  await writeFile(playlist, mediaPlaylist(list.slice(0, 2), { ended: false }));
  const started = performance.now();
  // From the first segment, as a player joining an EVENT playlist does (ffmpeg's default is the live edge).
  const decoding = decodedFrames(playlist, ['-live_start_index', '0', '-m3u8_hold_counters', '3']);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await writeFile(playlist, mediaPlaylist(list, { ended: true }));
  assert.equal(await decoding, CLIP_SECONDS * CLIP_FPS);
  t.diagnostic(
    `EVENT playlist followed to its end in ${Math.round(performance.now() - started)} ms (one reload)`,
  );
});
