import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createTokenVerifier, signDevToken } from '../platform/auth/jwt.ts';
import { createReadiness } from '../platform/health/readiness.ts';
import { problemOf } from '../platform/http/problem.ts';
import { edgeDecisionMetric } from '../platform/metrics/edge.ts';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';
import { stall } from '../test/raw-http.ts';
import { hlsMasterRendition, storedVideo } from '../test/stored-video.ts';
import { buildEdgeServer } from './server.ts';

/**
 * The edge parses its own paths and query: whatever a stranger puts there is a 4xx, never a 5xx, and never
 * reaches PostgreSQL or storage unshaped. Runs the edge on the middle tier's database and storage.
 */
let api: InProcessApi;
let edge: FastifyInstance;
before(async () => {
  api = await startInProcessApi({ env: { HTTP_REQUEST_TIMEOUT_MS: '1000' } });
  edge = await api.buildEdge();
  await edge.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await api?.stop();
});

async function read(url: string, headers: Record<string, string> = {}) {
  const reply = await edge.inject({ method: 'GET', url, headers });
  return { status: reply.statusCode, code: (reply.json() as { code?: string }).code, body: reply.body };
}

test('keys no server would make are unknown objects (404), anonymous or not', async () => {
  for (const url of [
    '/m/raw%00x',
    '/m/raw/%00',
    '/m/raw/a%0Ab',
    '/m/raw/%E2%80%AEgpj.exe',
    '/m/etc/passwd',
    `/m/raw/${'a'.repeat(5000)}`,
    '/m/raw/../derived/x',
  ]) {
    const anonymous = await read(url);
    assert.equal(anonymous.status, 404, `${url}: ${anonymous.body}`);
    assert.equal(anonymous.code, 'object_not_found', url);
    const withBearer = await read(url, { authorization: `Bearer ${api.token('alice')}` });
    assert.equal(withBearer.status, 404, url);
  }
});

test('a path that is not valid percent-encoding is 400 validation_failed, as on the api', async () => {
  // Bytes that are not UTF-8, an encoded lone surrogate, a truncated escape.
  for (const url of ['/m/derived/%ff', '/m/raw/%ED%A0%80', '/m/raw/%E0%A4%A']) {
    const reply = await read(url);
    assert.equal(reply.status, 400, `${url}: ${reply.body}`);
    assert.equal(reply.code, 'validation_failed');
    const onApi = await api.app.inject({ method: 'GET', url: url.replace('/m/', '/v1/media/') });
    assert.equal(onApi.statusCode, 400, onApi.body);
    assert.equal(onApi.json().code, 'validation_failed');
  }
});

test('a repeated, empty or oversized token parameter is a 400 naming it, whatever the key', async () => {
  for (const query of [
    '?token=a&token=b',
    '?token=a&token=b&token=c',
    `?token=${'a'.repeat(5000)}`,
    '?token=',
  ]) {
    for (const key of ['raw/x/y', 'etc/passwd']) {
      const reply = await edge.inject({ method: 'GET', url: `/m/${key}${query}` });
      assert.equal(reply.statusCode, 400, `${key}${query.slice(0, 30)}: ${reply.body}`);
      assert.match(reply.headers['content-type'] as string, /^application\/problem\+json/);
      const problem = reply.json() as { code: string; errors: { path: string }[] };
      assert.equal(problem.code, 'validation_failed');
      assert.deepEqual(
        problem.errors.map((e) => e.path),
        problem.errors.map(() => 'querystring/token'),
      );
    }
  }
  const ignored = await read('/m/raw/x/y?cache=1&t=2');
  assert.equal(ignored.status, 404, 'other parameters are ignored');
});

test('a refusal is the catalogue problem+json, byte for byte, on every refusing path', async () => {
  const stranger = { authorization: `Bearer ${api.token('mallory')}` };
  const unknown = await edge.inject({ method: 'GET', url: '/m/derived/nothing/here.webp' });
  const crafted = await edge.inject({ method: 'GET', url: '/m/raw/%00', headers: stranger });
  for (const reply of [unknown, crafted]) {
    assert.equal(reply.statusCode, 404);
    assert.equal(reply.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.deepEqual(
      reply.json(),
      JSON.parse(JSON.stringify(problemOf('object_not_found', 'No such object'))),
    );
  }
});

const rendition = { name: '720p.mp4', quality: '720p', format: 'mp4', contentType: 'video/mp4' };

test('every read is counted once by its outcome; other routes are not reads', async () => {
  const registry = new Registry();
  const counted = await buildEdgeServer({
    config: api.config,
    pool: api.database.pool,
    storage: api.ctx.storage,
    verify: createTokenVerifier(api.config.auth),
    logger: pino({ level: 'silent' }),
    readiness: createReadiness(),
    registry,
  });
  try {
    await counted.inject({ method: 'GET', url: '/m/derived/nothing/here.webp' });
    await counted.inject({ method: 'GET', url: '/m/raw/x?token=a&token=b' });
    await counted.inject({ method: 'GET', url: '/m/raw/x', headers: { authorization: 'Basic x' } });
    await counted.inject({ method: 'GET', url: '/healthz' });
    const video = `/m/${await storedVideo(api, rendition, 'private', Buffer.alloc(1000, 7))}`;
    const owner = { authorization: `Bearer ${api.token('alice')}` };
    const whole = await counted.inject({ method: 'GET', url: video, headers: owner });
    const read = (headers: Record<string, string>) =>
      counted.inject({ method: 'GET', url: video, headers: { ...owner, ...headers } });
    assert.equal((await read({ range: 'bytes=0-9' })).statusCode, 206);
    assert.equal((await read({ 'if-none-match': String(whole.headers.etag) })).statusCode, 304);
    assert.equal((await read({ range: 'bytes=5000-6000' })).statusCode, 416);
    const master = await storedVideo(
      api,
      hlsMasterRendition,
      'public',
      Buffer.from('#EXTM3U\n#EXT-X-ENDLIST\n'),
    );
    assert.equal((await counted.inject({ method: 'GET', url: `/m/${master}` })).statusCode, 200);
    const counts = Object.fromEntries(
      [
        ...(await registry.metrics()).matchAll(
          new RegExp(`^${edgeDecisionMetric}_count\\{outcome="(\\w+)"\\} (\\d+)$`, 'gm'),
        ),
      ].map((m) => [m[1], Number(m[2])]),
    );
    assert.deepEqual(counts, {
      not_found: 1,
      invalid: 2,
      unauthenticated: 1,
      bytes: 2,
      not_modified: 1,
      playlist: 1,
    });
  } finally {
    await counted.close();
  }
});

test('a malformed Authorization header or an unusable sub is a 401, never an anonymous read', async () => {
  const secret = api.config.auth.jwtSecret as string;
  const token = api.token('alice');
  for (const authorization of [
    `Bearer ${token} 0`,
    `Basic ${token}`,
    'Bearer',
    `Bearer ${signDevToken(secret, { sub: 'a\u0000', roles: [] })}`,
    `Bearer ${signDevToken(secret, { sub: 'a\ud800', roles: [] })}`,
    `Bearer ${signDevToken(secret, { sub: 'a'.repeat(6000), roles: [] })}`,
  ]) {
    const reply = await read('/m/raw/x/y', { authorization });
    assert.equal(reply.status, 401, `${authorization.slice(0, 40)}: ${reply.body}`);
    assert.equal(reply.code, 'unauthenticated');
  }
});

test('a request whose headers never finish is cut off (HTTP_REQUEST_TIMEOUT_MS=1000)', async () => {
  const address = edge.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const { answer } = await stall(port, 'GET /m/raw/x/y HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  assert.match(answer, /^HTTP\/1\.1 408 /);
});
