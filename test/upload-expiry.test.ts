import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import sharp from 'sharp';
import type { UploadSession } from '../contracts/uploads.ts';
import { apiClient, putPart } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';

let platform: Platform;
before(async () => {
  // Sessions here live 3 seconds, so their part URLs expire with them.
  platform = await startPlatform({ env: { UPLOAD_SESSION_TTL_SECONDS: '3' }, bus: 'embedded' });
});
after(() => platform?.stop());

test('a part URL used after it expired is refused by storage, and the session says expired', async () => {
  const alice = apiClient(platform, platform.token('alice'));
  const jpeg = await sharp({ create: { width: 32, height: 32, channels: 3, background: '#c63' } })
    .jpeg()
    .toBuffer();
  const created = await alice.post<UploadSession>('/v1/uploads', {
    filename: 'late.jpg',
    contentType: 'image/jpeg',
    size: jpeg.length,
  });
  assert.equal(created.status, 201);
  await new Promise((r) => setTimeout(r, 4500));
  const late = await putPart(created.body.parts[0]?.url ?? '', jpeg);
  assert.equal(late.status, 403, late.text);
  const state = await alice.get<{ state: string }>(`/v1/uploads/${created.body.uploadId}`);
  assert.equal(state.body.state, 'expired');
  const complete = await alice.post<{ code: string }>(`/v1/uploads/${created.body.uploadId}/complete`, {});
  assert.equal(complete.status, 410);
  assert.equal(complete.body.code, 'upload_expired');
  const fresh = await alice.post<{ code: string }>(`/v1/uploads/${created.body.uploadId}/parts`, {
    partNumbers: [1],
  });
  assert.equal(fresh.status, 410);
});

test('an expired or forged token is refused with a problem+json code', async () => {
  const expired = apiClient(platform, platform.token('alice', { ttlSeconds: -10 }));
  const reply = await expired.get<{ code: string }>('/v1/media?owner=me');
  assert.equal(reply.status, 401);
  assert.equal(reply.body.code, 'token_expired');
  const forged = apiClient(platform, `${platform.token('alice').slice(0, -4)}AAAA`);
  const forgedReply = await forged.get<{ code: string }>('/v1/media?owner=me');
  assert.equal(forgedReply.status, 401);
  assert.equal(forgedReply.body.code, 'unauthenticated');
});
