// A new upload (or a deduplicated clone) is written straight into its gallery slot: the slot asked for,
// clamped, or the end; the media it shifts are moved and announced once each, the new one never as a move,
// a video still takes slot 0, and concurrent creates leave the gallery gapless.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { and, asc, eq, ne } from 'drizzle-orm';
import { topics } from '../../contracts/events.ts';
import { media, outbox } from '../../db/schema.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';

let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api?.stop());

async function create(
  owner: string,
  body: { contentType?: string; position?: number } = {},
): Promise<string> {
  const reply = await api.call(owner, {
    method: 'POST',
    url: '/v1/uploads',
    payload: {
      filename: 'p',
      contentType: body.contentType ?? 'image/jpeg',
      size: 1000,
      ...(body.position === undefined ? {} : { position: body.position }),
    },
  });
  assert.equal(reply.statusCode, 201, reply.body);
  return reply.json().mediaId;
}

/** The owner's gallery as stored, in slot order. */
async function gallery(owner: string): Promise<{ id: string; position: number }[]> {
  return api.ctx.db
    .select({ id: media.id, position: media.position })
    .from(media)
    .where(and(eq(media.ownerId, owner), ne(media.status, 'deleted')))
    .orderBy(asc(media.position));
}

async function moves(mediaId: string): Promise<number[]> {
  const rows = await api.ctx.db
    .select({ payload: outbox.payload })
    .from(outbox)
    .where(
      and(
        eq(outbox.aggregateId, mediaId),
        eq(outbox.topic, topics.mediaLifecycle),
        eq(outbox.eventType, 'media.updated'),
      ),
    )
    .orderBy(asc(outbox.seq));
  return rows.map((row) => (row.payload as { data: { position: number } }).data.position);
}

test('an upload goes to the end, or to the slot asked for (clamped), shifting the others once each', async () => {
  const owner = 'placement-owner';
  const [a, b, c] = [await create(owner), await create(owner), await create(owner)];
  assert.deepEqual(
    (await gallery(owner)).map((m) => m.id),
    [a, b, c],
  );
  for (const id of [a, b, c]) assert.deepEqual(await moves(id), [], 'appending moves nobody');

  const d = await create(owner, { position: 1 });
  assert.deepEqual(await gallery(owner), [
    { id: a, position: 0 },
    { id: d, position: 1 },
    { id: b, position: 2 },
    { id: c, position: 3 },
  ]);
  assert.deepEqual(await moves(b), [2]);
  assert.deepEqual(await moves(c), [3]);
  assert.deepEqual(await moves(d), [], 'the new media is created in its slot, not moved there');
  assert.deepEqual(await moves(a), []);

  const e = await create(owner, { position: 99 });
  assert.deepEqual((await gallery(owner)).at(-1), { id: e, position: 4 });
  assert.deepEqual(await moves(e), []);
});

test('a video takes slot 0 whatever it asks for; the photos shift', async () => {
  const owner = 'placement-video-owner';
  const [a, b] = [await create(owner), await create(owner)];
  const video = await create(owner, { contentType: 'video/mp4', position: 2 });
  assert.deepEqual(await gallery(owner), [
    { id: video, position: 0 },
    { id: a, position: 1 },
    { id: b, position: 2 },
  ]);
  assert.deepEqual(await moves(a), [1]);
  assert.deepEqual(await moves(b), [2]);
  assert.deepEqual(await moves(video), []);
});

test('concurrent creates, some at a slot, leave the gallery a permutation of 0..n-1', async () => {
  const owner = 'placement-concurrent-owner';
  await create(owner);
  const created = await Promise.all(
    Array.from({ length: 12 }, (_, i) => create(owner, i % 3 === 0 ? { position: i % 4 } : {})),
  );
  const positions = (await gallery(owner)).map((m) => m.position);
  assert.deepEqual(
    positions,
    Array.from({ length: created.length + 1 }, (_, i) => i),
  );
});
