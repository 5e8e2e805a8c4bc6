import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';

/**
 * A part URL carries the part's exact length in its signature: storage (here the in-process S3 server)
 * refuses a PUT of any other length, so a declared 1,000-byte upload cannot store 20 MiB.
 */
const mib = 1024 * 1024;
let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api?.stop());

interface Session {
  uploadId: string;
  parts: { partNumber: number; url: string }[];
}

async function open(size: number): Promise<Session> {
  const created = await api.call('alice', {
    method: 'POST',
    url: '/v1/uploads',
    payload: { filename: 'a.jpg', contentType: 'image/jpeg', size },
  });
  assert.equal(created.statusCode, 201, created.body);
  return created.json();
}

const put = async (url: string, bytes: number) =>
  (await fetch(url, { method: 'PUT', body: new Uint8Array(bytes) })).status;

const urlOf = (session: Session, partNumber: number) =>
  session.parts.find((p) => p.partNumber === partNumber)?.url ?? '';

async function storedSizes(session: Session): Promise<number[]> {
  const state = await api.call('alice', { method: 'GET', url: `/v1/uploads/${session.uploadId}` });
  return (state.json() as { uploadedParts: { size: number }[] }).uploadedParts.map((p) => p.size);
}

test('a single-part upload of 1,000 bytes takes exactly 1,000 bytes', async () => {
  const session = await open(1000);
  const url = urlOf(session, 1);
  assert.equal(await put(url, 20 * mib), 403, '20 MiB to a 1,000-byte part');
  assert.equal(await put(url, 999), 403, 'one byte short');
  assert.equal(await put(url, 1001), 403, 'one byte over');
  assert.deepEqual(await storedSizes(session), [], 'nothing was stored');
  assert.equal(await put(url, 1000), 200);
  assert.deepEqual(await storedSizes(session), [1000]);
});

test('each part of a multipart upload is bound to its own length, the last to the remainder', async () => {
  const size = 5 * mib + 10;
  const session = await open(size);
  assert.equal(session.parts.length, 2);
  assert.equal(await put(urlOf(session, 2), 5 * mib), 403, 'a full part into the last slot');
  assert.equal(await put(urlOf(session, 1), 10), 403, "the remainder into the first part's slot");
  assert.equal(await put(urlOf(session, 1), 5 * mib), 200);
  assert.equal(await put(urlOf(session, 2), 10), 200);
  assert.deepEqual(await storedSizes(session), [5 * mib, 10]);
});

test('fresh URLs asked for on resume bind the same lengths', async () => {
  const session = await open(5 * mib + 10);
  const refreshed = await api.call('alice', {
    method: 'POST',
    url: `/v1/uploads/${session.uploadId}/parts`,
    payload: { partNumbers: [2] },
  });
  assert.equal(refreshed.statusCode, 200, refreshed.body);
  const url = (refreshed.json() as Session).parts[0]?.url ?? '';
  assert.equal(await put(url, 20 * mib), 403);
  assert.equal(await put(url, 10), 200);
});

test('a body sent without a Content-Length (chunked) is refused', async () => {
  const session = await open(1000);
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(urlOf(session, 1), { method: 'PUT', headers: { 'transfer-encoding': 'chunked' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(Buffer.alloc(1000));
  });
  assert.ok(status >= 400 && status < 500, `answered ${status}`);
  assert.deepEqual(await storedSizes(session), []);
});
