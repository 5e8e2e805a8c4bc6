import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { signUrlToken } from '../platform/auth/url-token.ts';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';
import { hlsMasterRendition, storedVideo } from '../test/stored-video.ts';

/**
 * A browser or CDN may keep an edge answer for its `max-age`, so that answer must lapse when the edge's own
 * window on the access decision does: a redirect or playlist handed out late in the window carries only
 * what is left of it. Otherwise a copy made just before a revocation would outlive the edge's by up to a
 * whole window. Each case reads a key cold (opening the window), again well into it, and checks that no
 * answer may be cached past the window's end.
 */
const cacheTtlMs = 3000;

let api: InProcessApi;
let edge: FastifyInstance;
before(async () => {
  api = await startInProcessApi({
    env: { EDGE_CACHE_TTL_MS: String(cacheTtlMs), CDN_BASE_URL: 'https://cdn.example.com' },
  });
  edge = await api.buildEdge();
});
after(() => api?.stop());

const rendition = { name: 'high.mp4', quality: 'high', format: 'mp4', contentType: 'video/mp4' };

const maxAgeOf = (cacheControl: unknown) => Number(/max-age=(\d+)/.exec(String(cacheControl))?.[1]);

/** The answer to each read of `urls` (with its headers), and the max-age it may be cached for. */
async function read(urls: [string, Record<string, string>][], status: number) {
  const ages: number[] = [];
  for (const [url, headers] of urls) {
    const reply = await edge.inject({ url, headers });
    assert.equal(reply.statusCode, status, `${url}: ${reply.body}`);
    ages.push(maxAgeOf(reply.headers['cache-control']));
  }
  return ages;
}

async function assertLapsesWithWindow(urls: [string, Record<string, string>][], status: number) {
  const first = await read(urls, status);
  // The window opened during the first read, so it closes no later than this plus its length.
  const closesBy = Date.now() + cacheTtlMs;
  for (const age of first) assert.ok(age >= 1, `a fresh decision may be cached (max-age ${age})`);
  await sleep(cacheTtlMs / 2 + 200);
  const askedAt = Date.now();
  const later = await read(urls, status);
  for (const [i, age] of later.entries()) {
    assert.ok(
      askedAt + age * 1000 <= closesBy,
      `${urls[i]?.[0]}: max-age ${age} asked ${closesBy - askedAt} ms before the window closes`,
    );
  }
}

test('a public redirect to the CDN lapses with the window it was decided in', async () => {
  const key = await storedVideo(api, rendition, 'public', undefined);
  await assertLapsesWithWindow([[`/m/${key}`, {}]], 302);
});

test('a private redirect to storage lapses with its window, by Bearer and by ?token=', async () => {
  const key = await storedVideo(api, { ...rendition, name: 'poster.jpg' }, 'private', undefined);
  const token = signUrlToken(api.config.auth.urlSigningSecret as string, {
    key,
    sub: 'alice',
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  await assertLapsesWithWindow(
    [
      [`/m/${key}`, { authorization: `Bearer ${api.token('alice')}` }],
      [`/m/${key}?token=${token}`, {}],
    ],
    302,
  );
});

test('a VOD playlist, cacheable for a minute by its type, lapses with the window too', async () => {
  const key = await storedVideo(api, hlsMasterRendition, 'public', Buffer.from('#EXTM3U\n#EXT-X-ENDLIST\n'));
  await assertLapsesWithWindow([[`/m/${key}`, {}]], 200);
});
