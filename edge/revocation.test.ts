import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { retireMedia } from '../api/media/delete-media.ts';
import { media, mediaVariant } from '../db/schema.ts';
import { signUrlToken } from '../platform/auth/url-token.ts';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';
import { cachedReferences } from './reference-cache.ts';

/**
 * The edge answers from memory (who may read a key, verified credentials, presigned URLs), and still keeps
 * the promise its cache window makes: a delete, a takedown or public→private is seen within
 * EDGE_CACHE_TTL_MS on every path. Each case warms every cache first, so an answer that outlived the window
 * would show. The edge runs on the middle tier's database and storage.
 */
const cacheTtlMs = 400;
const signedUrlTtlSeconds = 4;
const cdn = 'https://cdn.example.com';

let api: InProcessApi;
let edge: FastifyInstance;
before(async () => {
  api = await startInProcessApi({
    env: {
      EDGE_CACHE_TTL_MS: String(cacheTtlMs),
      EDGE_SIGNED_URL_TTL_SECONDS: String(signedUrlTtlSeconds),
      CDN_BASE_URL: cdn,
    },
  });
  edge = await api.buildEdge();
});
after(async () => {
  await api?.stop();
});

/** A processed media of alice, as the worker leaves it: a ready `medium` rendition under `derived/`. */
async function readyMedia(visibility: 'public' | 'private') {
  const id = randomUUID();
  const key = `derived/${id}/${randomUUID()}/medium.webp`;
  await api.database.db.insert(media).values({
    id,
    ownerId: 'alice',
    kind: 'image',
    status: 'ready',
    bucket: api.ctx.storage.bucket,
    objectKey: `raw/${id}/${randomUUID()}`,
    filename: 'a.jpg',
    contentType: 'image/jpeg',
    sizeBytes: 1000,
    visibility,
  });
  await api.database.db.insert(mediaVariant).values({
    mediaId: id,
    quality: 'medium',
    format: 'webp',
    objectKey: key,
    bytes: 100,
  });
  const token = signUrlToken(api.config.auth.urlSigningSecret as string, {
    key,
    sub: 'alice',
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  return { id, key, token };
}

type Media = Awaited<ReturnType<typeof readyMedia>>;

/** The three ways a client reads: anonymously (the public/CDN path), with a Bearer token, with `?token=`. */
async function readAll(m: Media, bearerSub = 'alice') {
  const read = async (url: string, headers: Record<string, string> = {}) => {
    const reply = await edge.inject({ method: 'GET', url, headers });
    return {
      status: reply.statusCode,
      location: reply.headers.location,
      cacheControl: String(reply.headers['cache-control']),
    };
  };
  return {
    anonymous: await read(`/m/${m.key}`),
    bearer: await read(`/m/${m.key}`, { authorization: `Bearer ${api.token(bearerSub)}` }),
    token: await read(`/m/${m.key}?token=${m.token}`),
  };
}

const throughCdn = (location: string | undefined) => location?.startsWith(`${cdn}/`) ?? false;
const toStorage = (location: string | undefined) => location?.startsWith(api.s3Endpoint) ?? false;

/** Warms every cache the edge has for `m` (twice: the second read is answered from memory). */
async function warm(m: Media, bearerSub = 'alice') {
  await readAll(m, bearerSub);
  return readAll(m, bearerSub);
}

/** The revocation committed when this resolves; the window is counted from then. */
async function afterWindow() {
  await sleep(cacheTtlMs + 50);
}

test('a deleted media is gone on every path within the window, its cached presigned URL included', async () => {
  const m = await readyMedia('private');
  const before = await warm(m);
  assert.equal(before.bearer.status, 302);
  assert.ok(toStorage(before.bearer.location), before.bearer.location);
  assert.equal(before.token.status, 302);
  const deleted = await api.call('alice', { method: 'DELETE', url: `/v1/media/${m.id}` });
  assert.equal(deleted.statusCode, 204, deleted.body);
  await afterWindow();
  const now = await readAll(m);
  assert.deepEqual(
    [now.anonymous.status, now.bearer.status, now.token.status],
    [410, 410, 410],
    JSON.stringify(now),
  );

  const shared = await readyMedia('public');
  assert.ok(throughCdn((await warm(shared)).anonymous.location));
  await api.call('alice', { method: 'DELETE', url: `/v1/media/${shared.id}` });
  await afterWindow();
  const gone = await readAll(shared);
  assert.deepEqual([gone.anonymous.status, gone.bearer.status, gone.token.status], [410, 410, 410]);
});

test('a takedown is gone on every path within the window', async () => {
  for (const visibility of ['public', 'private'] as const) {
    const m = await readyMedia(visibility);
    const before = await warm(m);
    assert.deepEqual([before.bearer.status, before.token.status], [302, 302]);
    await api.database.db.transaction((tx) =>
      retireMedia(tx, {
        mediaId: m.id,
        objectKey: `raw/${m.id}/x`,
        actor: 'moderation',
        to: 'rejected',
        by: 'moderation',
        detail: { reason: 'takedown' },
      }),
    );
    await afterWindow();
    const now = await readAll(m);
    assert.deepEqual(
      [now.anonymous.status, now.bearer.status, now.token.status],
      [410, 410, 410],
      `${visibility}: ${JSON.stringify(now)}`,
    );
  }
});

test('public→private stops every redirect to the CDN within the window; strangers are refused', async () => {
  const m = await readyMedia('public');
  const before = await warm(m, 'bob');
  assert.ok(throughCdn(before.anonymous.location), 'public: anyone goes to the CDN');
  assert.ok(throughCdn(before.bearer.location), 'public: bob too');
  const patched = await api.call('alice', {
    method: 'PATCH',
    url: `/v1/media/${m.id}`,
    payload: { visibility: 'private' },
  });
  assert.equal(patched.statusCode, 200, patched.body);
  await afterWindow();
  const now = await readAll(m, 'bob');
  assert.equal(now.anonymous.status, 401, 'anonymous readers must now authenticate');
  assert.equal(now.bearer.status, 403, 'bob is not the owner');
  assert.equal(now.token.status, 302, 'the capability the API issued still reads the key…');
  assert.ok(toStorage(now.token.location), '…through a presigned storage URL, never the CDN');
  const owner = await readAll(m, 'alice');
  assert.ok(toStorage(owner.bearer.location), owner.bearer.location);
});

test('a redirect is cached no longer than the window; a presigned URL is reused, never past its promise', async () => {
  const m = await readyMedia('private');
  const first = await readAll(m);
  const second = await readAll(m);
  assert.equal(second.bearer.location, first.bearer.location, 'one URL per key: browsers cache its bytes');
  assert.equal(second.token.location, first.bearer.location);
  for (const read of [first.bearer, second.token]) {
    const maxAge = Number(/max-age=(\d+)/.exec(read.cacheControl)?.[1]);
    assert.ok(maxAge * 1000 <= cacheTtlMs, read.cacheControl);
    const url = new URL(read.location as string);
    const signedAt = Date.parse(
      (url.searchParams.get('X-Amz-Date') ?? '').replace(
        /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
        '$1-$2-$3T$4:$5:$6Z',
      ),
    );
    const expiresAt = signedAt + Number(url.searchParams.get('X-Amz-Expires')) * 1000;
    assert.ok(expiresAt <= Date.now() + signedUrlTtlSeconds * 1000, 'expires no later than promised');
  }
  const publicMedia = await readyMedia('public');
  const cdnRead = (await readAll(publicMedia)).anonymous;
  assert.match(cdnRead.cacheControl, /^public, max-age=0$/);
  // Past half its lifetime a URL is no longer handed out: the next read gets a fresh one.
  await sleep((signedUrlTtlSeconds * 1000) / 2 + 1000);
  const later = await readAll(m);
  assert.notEqual(later.bearer.location, first.bearer.location);
  assert.equal((await fetch(later.bearer.location as string)).status, 404, 'storage honours the new URL');
});

test('a flood of unknown keys evicts no known key; known keys leave least recently used first', async () => {
  const references = cachedReferences(api.database.pool, 60_000, { maxKnown: 2, maxUnknown: 2 });
  const [a, b, c] = [await readyMedia('public'), await readyMedia('public'), await readyMedia('public')];
  const statusOf = async (m: Media) => (await references(m.key)).refs[0]?.status;
  assert.equal(await statusOf(a), 'ready');
  await api.call('alice', { method: 'DELETE', url: `/v1/media/${a.id}` });
  for (let i = 0; i < 10; i++) assert.equal((await references(`derived/${randomUUID()}/x`)).refs.length, 0);
  assert.equal(await statusOf(a), 'ready', 'a is still answered from memory (within its window)');
  await statusOf(b);
  await statusOf(c);
  assert.equal(await statusOf(a), 'deleted', 'a was the least recently used: read again from the database');
});
