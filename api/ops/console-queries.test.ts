import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Static } from '@sinclair/typebox';
import { eq } from 'drizzle-orm';
import type { MediaObjects, MediaSearchResult, Timeseries } from '../../contracts/ops.ts';
import { media, mediaVariant } from '../../db/schema.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { makeJpegWithGps } from '../../worker/image/test-images.ts';

// The console's admin queries on the in-process stack: media search, the funnel over time, a media's storage
// keys and who holds them; admins only, and crafted queries are 400s, never 5xx.
let api: InProcessApi;
const ids: Record<'first' | 'second' | 'other', string> = { first: '', second: '', other: '' };

before(async () => {
  api = await startInProcessApi();
  const photo = await makeJpegWithGps(64, 48, { lat: 1, lon: 2 });
  for (const [name, owner] of [
    ['first', 'search-alice'],
    ['second', 'search-alice'],
    ['other', 'search-bob'],
  ] as const) {
    const session = await api.uploadCompleted(owner, photo, 'image/jpeg', `${name}.jpg`);
    ids[name] = session.mediaId;
  }
  await api.ctx.db
    .update(media)
    .set({ status: 'failed', failureCode: 'image_undecodable' })
    .where(eq(media.id, ids.second));
});
after(() => api?.stop());

const admin = async <T>(url: string) => {
  const reply = await api.app.inject({
    method: 'GET',
    url,
    headers: { authorization: `Bearer ${api.token('console-ops', { admin: true })}` },
  });
  return { status: reply.statusCode, body: reply.json() as T };
};

describe('GET /v1/ops/media', () => {
  test('filters by owner, status, kind and failure code, newest first', async () => {
    const alice = await admin<Static<typeof MediaSearchResult>>('/v1/ops/media?owner=search-alice');
    assert.equal(alice.status, 200);
    assert.deepEqual(
      alice.body.items.map((m) => m.id),
      [ids.second, ids.first],
    );
    const failed = await admin<Static<typeof MediaSearchResult>>(
      '/v1/ops/media?status=failed&kind=image&failureCode=image_undecodable',
    );
    assert.deepEqual(
      failed.body.items.map((m) => [m.id, m.ownerId, m.failureCode]),
      [[ids.second, 'search-alice', 'image_undecodable']],
    );
    const byId = await admin<Static<typeof MediaSearchResult>>(`/v1/ops/media?id=${ids.other}`);
    assert.deepEqual(
      byId.body.items.map((m) => m.filename),
      ['other.jpg'],
    );
  });

  test('a date range excludes what was created outside it', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const none = await admin<Static<typeof MediaSearchResult>>(
      `/v1/ops/media?from=${encodeURIComponent(future)}`,
    );
    assert.deepEqual(none.body.items, []);
    const before = await admin<Static<typeof MediaSearchResult>>(
      `/v1/ops/media?owner=search-bob&to=${encodeURIComponent(future)}`,
    );
    assert.equal(before.body.items.length, 1);
  });
});

describe('GET /v1/ops/stats/timeseries', () => {
  test('every bucket is present, oldest first, and the current one counts the uploads', async () => {
    const series = await admin<Timeseries>('/v1/ops/stats/timeseries?hours=3&bucketMinutes=30');
    assert.equal(series.status, 200);
    assert.equal(series.body.bucketSeconds, 1800);
    const starts = series.body.points.map((p) => Date.parse(p.at));
    assert.ok(starts.length >= 6, `${starts.length} buckets`);
    for (let i = 1; i < starts.length; i++) assert.equal((starts[i] ?? 0) - (starts[i - 1] ?? 0), 1_800_000);
    const last = series.body.points.at(-1);
    assert.ok((last?.created ?? 0) >= 3 && (last?.processing ?? 0) >= 3, JSON.stringify(last));
    assert.equal(last?.timeToReadyP50, null, 'nothing became ready');
  });
});

describe('GET /v1/ops/media/:id/objects', () => {
  test('lists the original with an openable URL and every media that shares a key', async () => {
    const [first] = await api.ctx.db.select().from(media).where(eq(media.id, ids.first));
    // A deduplicated copy: another media pointing at the same stored bytes, and a rendition of it.
    await api.ctx.db.update(media).set({ objectKey: first?.objectKey }).where(eq(media.id, ids.other));
    await api.ctx.db.insert(mediaVariant).values({
      mediaId: ids.other,
      quality: 'low',
      format: 'webp',
      objectKey: first?.objectKey ?? '',
      bytes: 1,
    });
    const reply = await admin<Static<typeof MediaObjects>>(`/v1/ops/media/${ids.first}/objects`);
    assert.equal(reply.status, 200);
    const [original] = reply.body.objects;
    assert.equal(original?.role, 'original');
    assert.match(original?.url ?? '', /\/m\/.+\?token=/);
    assert.deepEqual(
      [...new Set(original?.referencedBy.map((r) => r.mediaId))].sort(),
      [ids.first, ids.other].sort(),
    );
  });
});

test('only admins; crafted queries are 400, unknown media 404', async () => {
  const asUser = await api.call('search-alice', { method: 'GET', url: '/v1/ops/media' });
  assert.equal(asUser.statusCode, 403);
  const crafted = [
    '/v1/ops/media?id=not-a-uuid',
    '/v1/ops/media?status=bogus',
    '/v1/ops/media?from=yesterday',
    '/v1/ops/media?to=10000-01-01T00:00:00Z',
    '/v1/ops/media?owner=%00',
    '/v1/ops/media?limit=0',
    '/v1/ops/media?extra=1',
    '/v1/ops/stats/timeseries?bucketMinutes=0',
    '/v1/ops/stats/timeseries?hours=100000',
    '/v1/ops/stats/timeseries?hours=1.5',
    '/v1/ops/media/not-a-uuid/objects',
  ];
  for (const url of crafted) {
    const reply = await admin<{ code: string }>(url);
    assert.equal(reply.status, 400, `${url}: ${JSON.stringify(reply.body)}`);
  }
  const missing = await admin<{ code: string }>('/v1/ops/media/00000000-0000-4000-8000-000000000000/objects');
  assert.equal(missing.status, 404);
});
