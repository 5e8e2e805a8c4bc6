import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { registerContractFormats } from '../../../contracts/formats.ts';
import { LiveStatusMessage, type LiveStatusToken } from '../../../contracts/media-events.ts';
import { type InProcessApi, startInProcessApi } from '../../../test/in-process.ts';
import { makeJpegWithGps } from '../../../worker/image/test-images.ts';
import { mediaDriver, output } from './test-media.ts';
import { openSse, type SseMessage } from './test-sse.ts';

/**
 * The live status stream on the middle tier: the API listening on a real port (inject() cannot stream)
 * over embedded PostgreSQL, with the media moved by the same functions the results consumer calls.
 */
let api: InProcessApi;
let base: string;
let media: ReturnType<typeof mediaDriver>;

before(async () => {
  api = await startInProcessApi({
    env: {
      SSE_POLL_MS: '100',
      SSE_HEARTBEAT_MS: '300',
      SSE_MAX_STREAMS_PER_USER: '2',
      SSE_MAX_STREAMS: '3',
      // Shorter than the streams below live: a request timeout must not cut a healthy stream.
      HTTP_REQUEST_TIMEOUT_MS: '1000',
    },
  });
  base = await api.app.listen({ host: '127.0.0.1', port: 0 });
  media = mediaDriver(api, await makeJpegWithGps(320, 240, { lat: 1, lon: 2 }));
});
after(async () => {
  await api?.stop();
});

const auth = (sub: string, admin = false) => ({ authorization: `Bearer ${api.token(sub, { admin })}` });
const eventsUrl = (mediaId: string, query = '') => `${base}/v1/media/${mediaId}/events${query}`;
registerContractFormats();
/** Every message holds to its published schema (contracts/media-events.ts). */
const payload = (m: SseMessage): LiveStatusMessage => {
  const message: unknown = JSON.parse(m.data ?? 'null');
  const errors = [...Value.Errors(LiveStatusMessage, message)].map((e) => `${e.path}: ${e.message}`);
  assert.deepEqual(errors.slice(0, 5), [], m.data);
  assert.equal((message as LiveStatusMessage).type, m.event, 'the SSE event name is the message type');
  return message as LiveStatusMessage;
};
const named = (messages: SseMessage[]) => messages.filter((m) => m.event).map((m) => payload(m).type);

async function refused(url: string, headers: Record<string, string>) {
  const c = await openSse(url, headers);
  assert.notEqual(c.status, 200, `expected a refusal from ${url}`);
  assert.match(c.headers.get('content-type') ?? '', /problem\+json/);
  return { status: c.status, code: (JSON.parse(c.text) as { code: string }).code };
}

describe('who may follow a media', () => {
  let mediaId: string;
  before(async () => {
    mediaId = await media.processing('owner-a');
  });

  test('the owner and admins; anyone else gets the 404 GET /v1/media gives', async () => {
    assert.deepEqual(await refused(eventsUrl(mediaId), {}), { status: 401, code: 'unauthenticated' });
    assert.deepEqual(await refused(eventsUrl(mediaId), auth('stranger')), {
      status: 404,
      code: 'media_not_found',
    });
    assert.deepEqual(await refused(eventsUrl(randomUUID()), auth('owner-a')), {
      status: 404,
      code: 'media_not_found',
    });
    assert.equal((await refused(eventsUrl('not-a-uuid'), auth('owner-a'))).status, 400);
    const admin = await openSse(eventsUrl(mediaId), auth('ops', true));
    assert.equal(admin.status, 200);
    admin.close();
  });

  test('crafted Last-Event-IDs are a 400, in the header and in the query', async () => {
    for (const id of ['-1', '99999999999999999999', '1e9', 'abc', '1.low;x', '999999999']) {
      assert.deepEqual(await refused(eventsUrl(mediaId), { ...auth('owner-a'), 'last-event-id': id }), {
        status: 400,
        code: 'validation_failed',
      });
      const query = `?lastEventId=${encodeURIComponent(id)}`;
      assert.equal((await refused(eventsUrl(mediaId, query), auth('owner-a'))).status, 400, id);
    }
  });

  test('a browser opens the stream with a stream token, bound to one media', async () => {
    const minted = await api.call('owner-a', { method: 'POST', url: `/v1/media/${mediaId}/events/token` });
    assert.equal(minted.statusCode, 200, minted.body);
    const { url, token } = minted.json() as LiveStatusToken;
    const stranger = await api.call('stranger', { method: 'POST', url: `/v1/media/${mediaId}/events/token` });
    assert.equal(stranger.statusCode, 404);

    const browser = await openSse(`${base}${url}`);
    assert.equal(browser.status, 200);
    assert.equal((await browser.collect((m) => m.event !== undefined)).at(-1)?.event, 'media.status');
    browser.close();
    const other = await media.processing('owner-a');
    assert.deepEqual(await refused(eventsUrl(other, `?token=${encodeURIComponent(token)}`), {}), {
      status: 401,
      code: 'unauthenticated',
    });
    assert.equal((await refused(eventsUrl(mediaId, '?token=forged.token'), {})).code, 'unauthenticated');
  });

  test('at most SSE_MAX_STREAMS_PER_USER streams per user (429) and SSE_MAX_STREAMS per process (503)', async () => {
    const first = await openSse(eventsUrl(mediaId), auth('owner-a'));
    const second = await openSse(eventsUrl(mediaId), auth('owner-a'));
    assert.deepEqual([first.status, second.status], [200, 200]);
    const third = await refused(eventsUrl(mediaId), auth('owner-a'));
    assert.deepEqual(third, { status: 429, code: 'too_many_streams' });
    const admin = await openSse(eventsUrl(mediaId), auth('owner-b', true));
    assert.equal(admin.status, 200, 'the limit is per user');
    const busy = await openSse(eventsUrl(mediaId), auth('owner-e', true));
    assert.equal(busy.status, 503, 'SSE_MAX_STREAMS for the whole process');
    assert.equal((JSON.parse(busy.text) as { code: string }).code, 'live_status_busy');
    assert.ok(Number(busy.headers.get('retry-after')) > 0);
    admin.close();
    first.close();
    for (let i = 0; ; i++) {
      const again = await openSse(eventsUrl(mediaId), auth('owner-a'));
      if (again.status === 200) {
        again.close();
        break;
      }
      assert.ok(i < 50, 'a closed stream frees its slot');
      await new Promise((r) => setTimeout(r, 50));
    }
    second.close();
  });

  test('no request that reads nothing holds a stream: HEAD, or a client gone before the answer', async () => {
    for (let i = 0; i < 3; i++) {
      const head = await fetch(eventsUrl(mediaId), { method: 'HEAD', headers: auth('owner-h', true) });
      assert.ok(head.status < 500 && head.status !== 200, `HEAD answered ${head.status}`);
    }
    const gone = Array.from({ length: 6 }, (_, i) => {
      const abort = new AbortController();
      const request = fetch(eventsUrl(mediaId), { headers: auth('owner-h', true), signal: abort.signal });
      setTimeout(() => abort.abort(), i);
      return request.catch(() => undefined);
    });
    await Promise.all(gone);
    for (let i = 0; ; i++) {
      const stream = await openSse(eventsUrl(mediaId), auth('owner-h', true));
      stream.close();
      if (stream.status === 200) break;
      assert.equal(stream.status, 429);
      assert.ok(i < 50, 'the slots of abandoned requests come back');
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});

describe('following a media from processing to ready', () => {
  let mediaId: string;
  let lastId: string;
  /** Every resume id the streams of this media sent, in order. */
  const sent: string[] = [];

  test('the current state first, then progress and renditions; heartbeats keep it open past the request timeout', async () => {
    mediaId = await media.processing('owner-c');
    const stream = await openSse(eventsUrl(mediaId), auth('owner-c'));
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /^text\/event-stream/);
    const opening = await stream.collect((m) => m.event !== undefined);
    assert.ok(
      opening.some((m) => m.retry !== undefined && m.retry > 0),
      'retry advice',
    );
    const status = opening.at(-1) as SseMessage;
    const first = payload(status);
    assert.equal(first.type, 'media.status');
    assert.equal(first.type === 'media.status' && first.data.status, 'processing');
    assert.ok(status.id, 'the opening state carries a resume id');

    await media.partial(mediaId, [output(mediaId, 'low', 360)], { low: 1, medium: 0.5 });
    const moved = await stream.collect((m) => m.event === 'media.progress');
    assert.deepEqual(named(moved), ['media.variant.ready', 'media.progress']);
    const variant = payload(moved.find((m) => m.event === 'media.variant.ready') as SseMessage);
    assert.equal(variant.type === 'media.variant.ready' && variant.data.variant.quality, 'low');
    assert.match(variant.type === 'media.variant.ready' ? variant.data.variant.url : '', /token=/);
    lastId = moved.find((m) => m.id)?.id ?? '';
    assert.match(lastId, /\.low$/);
    sent.push(status.id, lastId);

    // Idle for longer than HTTP_REQUEST_TIMEOUT_MS: pings arrive and the stream stays up.
    const started = Date.now();
    const idle = await stream.collect((m) => m.comment === 'ping' && Date.now() - started > 1500, 5000);
    assert.ok(
      idle.every((m) => m.event === undefined),
      'nothing happened, only pings',
    );
    stream.close();
  });

  test('a reconnect with Last-Event-ID gets exactly what it missed, then the stream ends at ready', async () => {
    await media.partial(mediaId, [output(mediaId, 'medium', 720)], { medium: 1 });
    await media.final(mediaId, [
      output(mediaId, 'low', 360),
      output(mediaId, 'medium', 720),
      output(mediaId, 'high', 1440),
    ]);

    const resumed = await openSse(eventsUrl(mediaId), { ...auth('owner-c'), 'last-event-id': lastId });
    assert.equal(resumed.status, 200);
    const missed = await resumed.collect(() => false);
    assert.deepEqual(named(missed), ['media.variant.ready', 'media.variant.ready', 'media.ready']);
    assert.deepEqual(
      missed
        .filter((m) => m.event === 'media.variant.ready')
        .map((m) => {
          const p = payload(m);
          return p.type === 'media.variant.ready' && p.data.variant.quality;
        }),
      ['medium', 'high'],
    );
    const ready = payload(missed.at(-1) as SseMessage);
    assert.equal(ready.type, 'media.ready');
    assert.equal(ready.type === 'media.ready' && ready.data.media.status, 'ready');
    assert.equal(ready.type === 'media.ready' && ready.data.variants.length, 3);
    const ids = missed.filter((m) => m.id).map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'every id once');
    sent.push(...ids.map(String));

    const after = await openSse(eventsUrl(mediaId), {
      ...auth('owner-c'),
      'last-event-id': ids.at(-1) ?? '',
    });
    assert.equal(after.status, 204, 'past the terminal event: EventSource stops');
    const byQuery = await openSse(
      eventsUrl(mediaId, `?lastEventId=${encodeURIComponent(ids.at(-1) ?? '')}`),
      auth('owner-c'),
    );
    assert.equal(byQuery.status, 204);
  });

  test('a fresh stream on a settled media says how it ended, once, and ends', async () => {
    const fresh = await openSse(eventsUrl(mediaId), auth('owner-c'));
    assert.deepEqual(named(await fresh.collect(() => false)), ['media.ready']);

    const failing = await media.processing('owner-c');
    const live = await openSse(eventsUrl(failing), auth('owner-c'));
    await live.collect((m) => m.event === 'media.status');
    await media.final(failing, [], false);
    const end = await live.collect(() => false);
    const failed = payload(end.at(-1) as SseMessage);
    assert.deepEqual(failed.type === 'media.failed' && failed.data.reason, {
      code: 'image_undecodable',
      detail: 'not an image after all',
    });
  });

  test('every id the stream sent resumes; an id it could not have sent is a 400', async () => {
    const [, status, end] = /^([0-9]+)\.(.+)$/.exec(sent.at(-1) ?? '') ?? [];
    assert.equal(end, 'high,low,medium', 'the ready id names every rendition');
    for (const id of sent) {
      const resumed = await openSse(eventsUrl(mediaId), { ...auth('owner-c'), 'last-event-id': id });
      assert.ok([200, 204].includes(resumed.status), `${id}: ${resumed.status} ${resumed.text}`);
      await resumed.collect(() => false);
    }
    const other = await openSse(eventsUrl(await media.processing('owner-c')), auth('owner-c'));
    const othersId = (await other.collect((m) => m.event !== undefined)).at(-1)?.id ?? '';
    other.close();
    const processingId = Number(status) - 1;
    const crafted = [
      `${processingId}.bogus`,
      `${processingId}.low,medium,zzz`,
      `${processingId}.low,low`,
      `${processingId}.medium,low`,
      status ?? '',
      `${status}.low`,
      othersId,
      '1',
      '0',
    ];
    for (const id of crafted) {
      assert.deepEqual(
        await refused(eventsUrl(mediaId), { ...auth('owner-c'), 'last-event-id': id }),
        { status: 400, code: 'validation_failed' },
        id,
      );
    }
  });

  test('a deletion ends the stream of whoever follows it; a fresh stream of its owner is told it once', async () => {
    const follow = await openSse(eventsUrl(mediaId), auth('owner-c'));
    assert.equal(follow.status, 200);
    const before = await follow.collect(() => false);
    const lastBefore = before.filter((m) => m.id).at(-1)?.id ?? '';
    const minted = await api.call('owner-c', { method: 'POST', url: `/v1/media/${mediaId}/events/token` });
    const deleted = await api.call('owner-c', { method: 'DELETE', url: `/v1/media/${mediaId}` });
    assert.equal(deleted.statusCode, 204);
    const told = await openSse(eventsUrl(mediaId), { ...auth('owner-c'), 'last-event-id': lastBefore });
    const last = payload((await told.collect(() => false)).at(-1) as SseMessage);
    assert.equal(last.type === 'media.deleted' && last.data.by, 'owner');

    // A page reload lost its id: the owner, an admin, a token minted before or after still hear of the end.
    const reminted = await api.call('owner-c', { method: 'POST', url: `/v1/media/${mediaId}/events/token` });
    assert.equal(reminted.statusCode, 200, reminted.body);
    for (const [url, headers] of [
      [eventsUrl(mediaId), auth('owner-c')],
      [eventsUrl(mediaId), auth('ops', true)],
      [`${base}${(minted.json() as LiveStatusToken).url}`, {}],
      [`${base}${(reminted.json() as LiveStatusToken).url}`, {}],
    ] as const) {
      const fresh = await openSse(url, headers);
      assert.equal(fresh.status, 200, url);
      const messages = await fresh.collect(() => false);
      assert.deepEqual(named(messages), ['media.deleted'], url);
      const again = await openSse(eventsUrl(mediaId), {
        ...auth('owner-c'),
        'last-event-id': messages.at(-1)?.id ?? '',
      });
      assert.equal(again.status, 204, 'its id is past the end');
    }
    assert.deepEqual(await refused(eventsUrl(mediaId), auth('stranger')), {
      status: 404,
      code: 'media_not_found',
    });
  });
});

describe('shutdown', () => {
  test('closing the server ends open streams at once instead of waiting for them', async () => {
    const mediaId = await media.processing('owner-d');
    const stream = await openSse(eventsUrl(mediaId), auth('owner-d'));
    await stream.collect((m) => m.event === 'media.status');
    const closing = api.app.close();
    assert.equal(
      await stream.collect(() => false, 5000).then((rest) => rest.filter((m) => m.event).length),
      0,
    );
    await closing;
  });
});
