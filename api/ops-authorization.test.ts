import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';

/**
 * Operator routes authorize before they validate: a caller without the admin role learns nothing about
 * their schemas, whatever it sends. An admin's impossible selector is its mistake (400), not "nothing found".
 */
let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api?.stop());

const endpoint = '00000000-0000-4000-8000-000000000000';
const adminRequests: [
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  url: string,
  payload?: Record<string, unknown>,
][] = [
  ['POST', '/v1/ops/outbox/replay', {}],
  ['GET', '/v1/ops/outbox?state=bogus'],
  ['GET', '/v1/ops/dlq?topic=bogus'],
  ['POST', '/v1/ops/dlq/redrive', { topic: 'bogus' }],
  ['GET', '/v1/ops/media/not-a-uuid/trace'],
  ['GET', '/v1/ops/media/stuck?limit=-1'],
  ['GET', '/v1/ops/media?status=bogus'],
  ['GET', '/v1/ops/stats/timeseries?bogus=1'],
  ['GET', '/v1/ops/media/not-a-uuid/objects'],
  ['GET', '/v1/ops/stats?bogus=1'],
  ['POST', '/v1/ops/storage/sweep', { bogus: true }],
  ['POST', '/v1/webhook-endpoints', {}],
  ['GET', '/v1/webhook-endpoints/not-a-uuid'],
  ['PATCH', '/v1/webhook-endpoints/not-a-uuid', { bogus: true }],
  ['GET', `/v1/webhook-endpoints/${endpoint}/deliveries?bogus=1`],
];

describe('a caller without the admin role', () => {
  for (const [method, url, payload] of adminRequests) {
    test(`${method} ${url} is 403 admin_required, not a schema error`, async () => {
      const reply = await api.call('alice', { method, url, ...(payload === undefined ? {} : { payload }) });
      assert.equal(reply.statusCode, 403, reply.body);
      assert.equal(reply.json().code, 'admin_required');
      const anonymous = await api.call(undefined, {
        method,
        url,
        ...(payload === undefined ? {} : { payload }),
      });
      assert.equal(anonymous.statusCode, 401, anonymous.body);
    });
  }
});

describe('an outbox replay selector that cannot match', () => {
  const replay = (payload: Record<string, string>) =>
    api.app.inject({
      method: 'POST',
      url: '/v1/ops/outbox/replay',
      headers: { authorization: `Bearer ${api.token('ops', { admin: true })}` },
      payload,
    });
  test('`from` later than `to` is 400 validation_failed naming them', async () => {
    const reply = await replay({ from: '2026-02-01T00:00:00Z', to: '2026-01-01T00:00:00Z' });
    assert.equal(reply.statusCode, 400, reply.body);
    assert.equal(reply.json().code, 'validation_failed');
    assert.match(reply.json().detail, /`from`.*`to`/);
  });
  test('the media search refuses a swapped range the same way, not with an empty list', async () => {
    const reply = await api.app.inject({
      url: '/v1/ops/media?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      headers: { authorization: `Bearer ${api.token('ops', { admin: true })}` },
    });
    assert.equal(reply.statusCode, 400, reply.body);
    assert.equal(reply.json().code, 'validation_failed');
    assert.match(reply.json().detail, /`from`.*`to`/);
  });
  test('a topic the platform does not have is 400 validation_failed naming the field', async () => {
    const reply = await replay({ from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z', topic: 'bogus' });
    assert.equal(reply.statusCode, 400, reply.body);
    assert.equal(reply.json().code, 'validation_failed');
    // Only the topic: not that a by-id or by-media selector would have needed `ids` or `mediaId`.
    const errors = reply.json().errors as { path: string; message: string }[];
    assert.deepEqual(
      errors.map((e) => e.path),
      ['body/topic'],
      reply.body,
    );
    assert.match(errors[0]?.message ?? '', /must be one of .*"optimize\.request"/);
    const byMedia = await replay({ mediaId: randomUUID(), topic: 'lifecycle' });
    assert.equal(byMedia.statusCode, 400, byMedia.body);
    assert.deepEqual(
      byMedia.json().errors.map((e: { message: string }) => e.message),
      ["must NOT have the property 'topic'"],
      'a replay by media takes no topic, and is told so, not what the other forms need',
    );
  });
});
