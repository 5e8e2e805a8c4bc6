import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';
import { hlsMasterRendition, storedVideo } from '../test/stored-video.ts';

/**
 * The edge answers HLS playlists itself, read from storage in one ranged read: the text whole when it fits,
 * a refusal when it is larger than a playlist can be, and a 404 when its object is missing, never a 5xx.
 */
let api: InProcessApi;
let edge: FastifyInstance;
before(async () => {
  api = await startInProcessApi();
  edge = await api.buildEdge();
});
after(async () => {
  await api?.stop();
});

/** A public ready video whose HLS master is `hls/master.m3u8`, holding `body` unless it is undefined. */
function videoWithMaster(body: string | undefined) {
  return storedVideo(api, hlsMasterRendition, 'public', body === undefined ? undefined : Buffer.from(body));
}

test('a playlist is answered whole, its references rewritten to edge URLs', async () => {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3'];
  // Longer than any single read chunk a server might split it into.
  for (let i = 0; i < 2000; i++) lines.push(`#EXT-X-STREAM-INF:BANDWIDTH=${i + 1}`, `rung-${i}.m3u8`);
  const master = await videoWithMaster(`${lines.join('\n')}\n`);
  const reply = await edge.inject({ url: `/m/${master}` });
  assert.equal(reply.statusCode, 200);
  assert.equal(reply.headers['content-type'], 'application/vnd.apple.mpegurl');
  const uris = reply.body.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(uris.length, 2000);
  assert.equal(
    uris.at(-1),
    `${api.config.edgePublicUrl}/m/${master.replace('master.m3u8', 'rung-1999.m3u8')}`,
  );
});

test('a playlist larger than 1 MiB is refused, not read into memory', async () => {
  const master = await videoWithMaster(`#EXTM3U\n${'#'.repeat(1024 * 1024)}\n`);
  const reply = await edge.inject({ url: `/m/${master}` });
  assert.equal(reply.statusCode, 403);
  assert.equal(reply.json().code, 'forbidden');
});

test('a referenced playlist whose object is missing is a 404 problem', async () => {
  const master = await videoWithMaster(undefined);
  const reply = await edge.inject({ url: `/m/${master}` });
  assert.equal(reply.statusCode, 404);
  assert.equal(reply.json().code, 'object_not_found');
});
