import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hlsMasterKey, isPlayback, playlistMaxAgeSeconds, rewritePlaylist } from './playlist.ts';

test('every object of an HLS package is authorised by its master playlist', () => {
  assert.equal(hlsMasterKey('derived/m/r/hls/low/seg-3.m4s'), 'derived/m/r/hls/master.m3u8');
  assert.equal(hlsMasterKey('derived/m/r/hls/master.m3u8'), 'derived/m/r/hls/master.m3u8');
  assert.equal(hlsMasterKey('derived/m/r/low.mp4'), undefined);
});

test('references become absolute edge URLs with the token; tags and the init map too', () => {
  const master = '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000\nlow/index.m3u8\n';
  const url = (key: string) => `https://edge/m/${key}?token=T`;
  assert.equal(
    rewritePlaylist(master, 'derived/m/r/hls/master.m3u8', url),
    '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=500000\nhttps://edge/m/derived/m/r/hls/low/index.m3u8?token=T\n',
  );
  const media = '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:6.0,\nseg0.m4s\n#EXT-X-ENDLIST';
  const rewritten = rewritePlaylist(media, 'derived/m/r/hls/low/index.m3u8', url);
  assert.match(rewritten, /URI="https:\/\/edge\/m\/derived\/m\/r\/hls\/low\/init\.mp4\?token=T"/);
  assert.match(rewritten, /\nhttps:\/\/edge\/m\/derived\/m\/r\/hls\/low\/seg0\.m4s\?token=T\n/);
});

test('a reference cannot climb out of the package', () => {
  const out = rewritePlaylist('../../../raw/x', 'derived/m/r/hls/low/index.m3u8', (k) => k);
  assert.equal(out, 'derived/m/raw/x');
  assert.equal(hlsMasterKey(out), undefined);
});

test('a growing (EVENT) playlist is not cached, a master briefly (rungs join it), a finished one for a minute', () => {
  const growing = '#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXTINF:6.000000,\n0.ts\n';
  assert.equal(playlistMaxAgeSeconds(growing), 0);
  assert.equal(playlistMaxAgeSeconds('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000\nlow/index.m3u8\n'), 2);
  const finished = growing.replace('EVENT', 'VOD').concat('#EXT-X-ENDLIST\n');
  assert.equal(playlistMaxAgeSeconds(finished), 60);
});

test("a chunked video's MPEG-TS segments are playback, streamed to a Bearer-only player like fMP4 ones", () => {
  assert.ok(isPlayback('derived/m/r/hls/low/3.ts'));
  assert.ok(isPlayback('derived/m/r/hls/low/seg0.m4s'));
  assert.ok(!isPlayback('derived/m/r/hls/low/index.m3u8'));
});
