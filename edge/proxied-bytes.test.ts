import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';
import { storedVideo } from '../test/stored-video.ts';

/**
 * A private video read with `Authorization` is answered with its bytes by the edge (a player resends the
 * header to a signed URL, which refuses it): those answers follow HTTP's range rules (RFC 9110 §13–14),
 * on the middle tier's database and real storage.
 */
let api: InProcessApi;
let edge: FastifyInstance;
const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
let url: string;
before(async () => {
  api = await startInProcessApi();
  edge = await api.buildEdge();
  const rendition = { name: '720p.mp4', quality: '720p', format: 'mp4', contentType: 'video/mp4' };
  url = `/m/${await storedVideo(api, rendition, 'private', bytes)}`;
});
after(() => api?.stop());

const read = (headers: Record<string, string> = {}) =>
  edge.inject({ method: 'GET', url, headers: { authorization: `Bearer ${api.token('alice')}`, ...headers } });

test('the bytes carry storage’s ETag and Last-Modified; If-None-Match with it is 304', async () => {
  const whole = await read();
  assert.equal(whole.statusCode, 200, whole.body);
  assert.deepEqual(whole.rawPayload, bytes);
  const etag = whole.headers.etag as string;
  assert.match(etag, /^"[^"]+"$/);
  assert.ok(!Number.isNaN(Date.parse(whole.headers['last-modified'] as string)));
  const revalidated = await read({ 'if-none-match': etag });
  assert.equal(revalidated.statusCode, 304);
  assert.equal(revalidated.rawPayload.length, 0);
});

test('If-Range naming the current version resumes (206); another version gets the whole object (200)', async () => {
  const { headers } = await read();
  const etag = headers.etag as string;
  const lastModified = headers['last-modified'] as string;
  for (const validator of [etag, lastModified]) {
    const resumed = await read({ range: 'bytes=10-19', 'if-range': validator });
    assert.equal(resumed.statusCode, 206, validator);
    assert.deepEqual(resumed.rawPayload, bytes.subarray(10, 20));
  }
  for (const validator of ['"another"', `W/${etag}`, 'Thu, 01 Jan 2015 00:00:00 GMT']) {
    const changed = await read({ range: 'bytes=10-19', 'if-range': validator });
    assert.equal(changed.statusCode, 200, validator);
    assert.equal(changed.headers['content-range'], undefined);
    assert.deepEqual(changed.rawPayload, bytes);
  }
});

test('a Range that is not one valid byte range is ignored: the whole object, 200', async () => {
  for (const range of ['bytes=abc', 'items=0-1', 'bytes=0-1,5-9', 'bytes=5-2', 'bytes=-']) {
    const reply = await read({ range });
    assert.equal(reply.statusCode, 200, `${range}: ${reply.body}`);
    assert.deepEqual(reply.rawPayload, bytes);
  }
});

test('a valid range past the end is still 416 with the object’s size', async () => {
  for (const range of ['bytes=1000-', 'bytes=-0']) {
    const reply = await read({ range });
    assert.equal(reply.statusCode, 416, range);
    assert.equal(reply.json().code, 'range_not_satisfiable');
    assert.equal(reply.headers['content-range'], 'bytes */1000');
  }
});

test('If-Match or If-Unmodified-Since naming another version is 412: a resumed download never splices two', async () => {
  const { headers } = await read();
  const etag = headers.etag as string;
  const lastModified = headers['last-modified'] as string;
  const current: Record<string, string>[] = [
    { 'if-match': etag },
    { 'if-match': '*' },
    { 'if-unmodified-since': lastModified },
  ];
  for (const condition of current) {
    const reply = await read({ ...condition, range: 'bytes=10-19' });
    assert.equal(reply.statusCode, 206, JSON.stringify(condition));
    assert.deepEqual(reply.rawPayload, bytes.subarray(10, 20));
  }
  const stale: Record<string, string>[] = [
    { 'if-match': '"another"' },
    { 'if-match': `W/${etag}` },
    { 'if-unmodified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' },
  ];
  for (const condition of stale) {
    const reply = await read({ ...condition, range: 'bytes=10-19' });
    assert.equal(reply.statusCode, 412, JSON.stringify(condition));
    assert.equal(reply.json().code, 'precondition_failed');
  }
});

test('If-Modified-Since at Last-Modified is 304; an older date, or an If-None-Match that differs, gets the bytes', async () => {
  const lastModified = (await read()).headers['last-modified'] as string;
  const unchanged = await read({ 'if-modified-since': lastModified });
  assert.equal(unchanged.statusCode, 304);
  assert.equal(unchanged.rawPayload.length, 0);
  const changed: Record<string, string>[] = [
    { 'if-modified-since': 'Thu, 01 Jan 2015 00:00:00 GMT' },
    { 'if-modified-since': lastModified, 'if-none-match': '"another"' },
  ];
  for (const condition of changed) {
    const reply = await read(condition);
    assert.equal(reply.statusCode, 200, JSON.stringify(condition));
    assert.deepEqual(reply.rawPayload, bytes);
  }
});
