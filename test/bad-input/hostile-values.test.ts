import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { UploadSession } from '../../contracts/uploads.ts';
import { apiClient } from '../client.ts';
import { type Platform, startPlatform } from '../harness.ts';
import { openSession, send } from './fixtures.ts';

/**
 * End to end, with the roles as their own processes and Versity Gateway as storage: the checks where a
 * real storage server and the edge process matter. The classes themselves are covered in the middle tier
 * (api/crafted-values, api/caller-identity, api/uploads/part-length, edge/edge-input).
 */
const mib = 1024 * 1024;
let platform: Platform;
let alice: string;
before(async () => {
  platform = await startPlatform({ bus: 'embedded' });
  alice = platform.token('alice');
});
after(() => platform?.stop());

/** Storage may answer 403 and close before a large body is all sent: a reset connection is a refusal too. */
const put = async (url: string, bytes: number): Promise<number | 'reset'> => {
  try {
    return (await fetch(url, { method: 'PUT', body: new Uint8Array(bytes) })).status;
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code;
    if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
    throw error;
  }
};

test('Versity refuses a part PUT of another length than the part URL was signed for', async () => {
  const session: UploadSession = await openSession(apiClient(platform, alice), { size: 1000 });
  const url = session.parts[0]?.url ?? '';
  assert.match(url, /X-Amz-SignedHeaders=content-length%3Bhost/);
  assert.ok([403, 'reset'].includes(await put(url, 20 * mib)), '20 MiB into a 1,000-byte upload');
  assert.equal(await put(url, 999), 403);
  assert.equal(await put(url, 1000), 200);
  const state = await send(platform.apiUrl, 'GET', `/v1/uploads/${session.uploadId}`, { token: alice });
  const stored = (state.body as unknown as { uploadedParts: { size: number }[] }).uploadedParts;
  assert.deepEqual(
    stored.map((p) => p.size),
    [1000],
  );
});

test('the edge process answers crafted keys and repeated tokens with 4xx and keeps serving', async () => {
  const edge = (path: string, headers: Record<string, string> = {}) =>
    send(platform.edgeUrl, 'GET', path, { headers });
  for (const [path, status] of [
    ['/m/raw%00x', 404],
    ['/m/raw/%ED%A0%80', 400],
    ['/m/raw/x/y?token=a&token=b', 400],
  ] as const) {
    const reply = await edge(path);
    assert.equal(reply.status, status, `${path}: ${JSON.stringify(reply.body)}`);
    assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/);
  }
  const malformed = await edge('/m/raw/x/y', { authorization: `Bearer ${alice} 0` });
  assert.equal(malformed.status, 401);
  assert.equal((await edge('/healthz')).status, 200);
});

test('the api process answers a NUL sub and a year-0000 replay with 4xx', async () => {
  const nul = platform.token('ali\u0000ce');
  const gallery = await send(platform.apiUrl, 'GET', '/v1/media?owner=me', { token: nul });
  assert.equal(gallery.status, 401);
  const replay = await send(platform.apiUrl, 'POST', '/v1/ops/outbox/replay', {
    token: platform.token('ops', { admin: true }),
    json: { from: '0000-01-01T00:00:00Z', to: '2024-01-01T00:00:00Z' },
  });
  assert.equal(replay.status, 400);
  assert.equal(replay.body.code, 'validation_failed');
});
