import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';

/**
 * Client text used as a key of a table: every name Object.prototype answers for must be as unknown as
 * any other unknown string, on every route a client can put such text into.
 */
let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api?.stop());

const inheritedNames = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'isPrototypeOf',
  '__defineGetter__',
  'toLocaleString',
];

test('a content type named like an Object member is refused (415) before any size cap or storage call', async () => {
  for (const name of inheritedNames) {
    for (const contentType of [name, name.toUpperCase()]) {
      const created = await api.call('alice', {
        method: 'POST',
        url: '/v1/uploads',
        payload: { filename: 'x.bin', contentType, size: 21 * 1024 ** 3 },
      });
      assert.equal(created.statusCode, 415, `${contentType}: ${created.body}`);
      assert.equal(created.json().code, 'unsupported_media_type');
    }
  }
  const { rows } = await api.database.pool.query('select count(*)::int as n from media');
  assert.deepEqual(rows, [{ n: 0 }], 'no media row was written');
});

test("after those attempts the caller's gallery and the ops stats still answer", async () => {
  const gallery = await api.call('alice', { method: 'GET', url: '/v1/media?owner=me' });
  assert.equal(gallery.statusCode, 200, gallery.body);
  const stats = await api.app.inject({
    method: 'GET',
    url: '/v1/ops/stats',
    headers: { authorization: `Bearer ${api.token('ops', { admin: true })}` },
  });
  assert.equal(stats.statusCode, 200, stats.body);
});

test('an accepted type still gets its own kind and limit, whatever its case', async () => {
  const created = await api.call('alice', {
    method: 'POST',
    url: '/v1/uploads',
    payload: { filename: 'a.jpg', contentType: 'IMAGE/JPEG', size: 50 * 1024 ** 2 + 1 },
  });
  assert.equal(created.statusCode, 413, created.body);
  assert.match(created.json().detail, /^image uploads are limited/);
});
