// Middle tier: the admin routes, the SSRF rule and the dispatcher on embedded PostgreSQL with real receivers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { after, before, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { pino } from 'pino';
import { runWebhooks } from '../../cli/webhooks.ts';
import type { LifecycleEvent } from '../../contracts/lifecycle.ts';
import { connectDatabase } from '../../db/client.ts';
import { webhookAttempt, webhookEndpoint } from '../../db/schema.ts';
import type { Config } from '../../platform/config.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../test/webhook-receiver.ts';
import { redeliver } from './deliveries.ts';
import { type Dispatcher, startDispatcher } from './dispatcher.ts';
import { createEndpoint } from './endpoints.ts';
import { fanOut } from './fan-out.ts';

let api: InProcessApi;
const closers: (() => Promise<unknown>)[] = [];
const admin = 'ops-admin';

before(async () => {
  api = await startInProcessApi();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await api?.stop();
});

const asAdmin = (options: Parameters<InProcessApi['call']>[1]) =>
  api.app.inject({ ...options, headers: { authorization: `Bearer ${api.token(admin, { admin: true })}` } });

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver();
  closers.push(() => r.close());
  return r;
}

/** Registered through the domain with private networks allowed, as a test or dev deployment would. */
async function endpointFor(r: WebhookReceiver, eventTypes?: LifecycleEvent['type'][]) {
  const created = await createEndpoint(
    { db: api.ctx.db, allowPrivateNetworks: true },
    { url: r.url, eventTypes },
  );
  r.secret = created.secret;
  return created;
}

function dispatcher(settings: Partial<Config['webhooks']> = {}, db = api.ctx.db): Dispatcher {
  const d = startDispatcher({
    db,
    settings: { ...api.config.webhooks, allowPrivateNetworks: true, pollIntervalMs: 50, ...settings },
    logger: api.ctx.logger,
  });
  closers.push(() => d.stop());
  return d;
}

function readyEvent(): LifecycleEvent {
  return {
    id: randomUUID(),
    version: 1,
    type: 'media.ready',
    timestamp: new Date().toISOString(),
    data: { mediaId: randomUUID(), ownerId: 'u1', kind: 'image', variants: [] },
  };
}

test('registration: admin only, http(s) only, private and loopback refused as problem+json, the secret shown once', async () => {
  const url = '/v1/webhook-endpoints';
  const user = await api.call('someone', {
    method: 'POST',
    url,
    payload: { url: 'https://93.184.216.34/h' },
  });
  assert.equal(user.statusCode, 403);
  const cases: [string, number, string][] = [
    ['ftp://93.184.216.34/', 400, 'webhook_url_invalid'],
    ['https://user:pw@93.184.216.34/', 400, 'webhook_url_invalid'],
    ['https://93.184.216.34:0/', 400, 'webhook_url_invalid'],
    ['http://[::ffff:0:7f00:1]/', 422, 'webhook_url_forbidden'],
    ['http://[64:ff9b:1::a9fe:a9fe]/', 422, 'webhook_url_forbidden'],
    ['http://127.0.0.1:8080/', 422, 'webhook_url_forbidden'],
    ['http://localhost/', 422, 'webhook_url_forbidden'],
    ['http://2130706433/', 422, 'webhook_url_forbidden'],
    ['http://[::ffff:a9fe:a9fe]/latest', 422, 'webhook_url_forbidden'],
    ['http://169.254.169.254/latest/meta-data', 422, 'webhook_url_forbidden'],
    ['http://10.0.0.8/', 422, 'webhook_url_forbidden'],
    ['http://[fd00::1]/', 422, 'webhook_url_forbidden'],
  ];
  for (const [target, status, code] of cases) {
    const res = await asAdmin({ method: 'POST', url, payload: { url: target } });
    assert.equal(res.statusCode, status, `${target}: ${res.body}`);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    assert.equal(res.json().code, code, target);
  }
  const badType = await asAdmin({
    method: 'POST',
    url,
    payload: { url: 'https://93.184.216.34/', eventTypes: ['media.nope'] },
  });
  assert.equal(badType.json().code, 'validation_failed');

  const created = await asAdmin({
    method: 'POST',
    url,
    payload: { url: 'https://93.184.216.34/hooks', eventTypes: ['media.ready'], description: 'app' },
  });
  assert.equal(created.statusCode, 201, created.body);
  const endpoint = created.json();
  assert.match(endpoint.secret, /^whsec_/);
  const read = await asAdmin({ method: 'GET', url: `${url}/${endpoint.id}` });
  assert.equal(read.json().secret, undefined, 'the secret is shown once');
  assert.deepEqual(read.json().eventTypes, ['media.ready']);
  const moved = await asAdmin({
    method: 'PATCH',
    url: `${url}/${endpoint.id}`,
    payload: { url: 'http://192.168.0.10/' },
  });
  assert.equal(moved.json().code, 'webhook_url_forbidden');
  const rotated = await asAdmin({ method: 'POST', url: `${url}/${endpoint.id}/rotate-secret` });
  assert.notEqual(rotated.json().secret, endpoint.secret);
  for (const action of ['rotate-secret', 'test', `deliveries/${randomUUID()}/redeliver`]) {
    const extra = await asAdmin({
      method: 'POST',
      url: `${url}/${endpoint.id}/${action}`,
      payload: { secret: 'whsec_mine' },
    });
    assert.equal(extra.statusCode, 400, `${action} refuses a body: ${extra.body}`);
    assert.equal(extra.json().code, 'validation_failed');
  }
  const empty = await asAdmin({ method: 'POST', url: `${url}/${endpoint.id}/rotate-secret`, payload: {} });
  assert.equal(empty.statusCode, 200, empty.body);
  const missing = await asAdmin({ method: 'GET', url: `${url}/${randomUUID()}/deliveries` });
  assert.equal(missing.json().code, 'webhook_endpoint_not_found');
  assert.equal((await asAdmin({ method: 'GET', url: `${url}/NOT-A-UUID` })).statusCode, 400);
  assert.equal((await asAdmin({ method: 'DELETE', url: `${url}/${endpoint.id}` })).statusCode, 204);
  assert.equal((await asAdmin({ method: 'DELETE', url: `${url}/${endpoint.id}` })).statusCode, 404);
});

test('at delivery the resolved address is checked again: a name that resolves to loopback is never reached', async () => {
  const r = await receiver();
  const endpoint = await endpointFor(r);
  await api.ctx.db
    .update(webhookEndpoint)
    .set({ url: `http://localhost:${r.port}/hooks` })
    .where(eq(webhookEndpoint.id, endpoint.id));
  await fanOut(api.ctx.db, readyEvent());
  const d = dispatcher({ allowPrivateNetworks: false });
  const deadline = Date.now() + 10_000;
  let attempts: (typeof webhookAttempt.$inferSelect)[] = [];
  while (attempts.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    attempts = await api.ctx.db
      .select()
      .from(webhookAttempt)
      .where(eq(webhookAttempt.endpointId, endpoint.id));
  }
  assert.equal(attempts.length >= 1, true, 'an attempt is logged');
  assert.match(String(attempts[0]?.error), /resolves to (127\.0\.0\.1|::1) \(loopback\)/);
  assert.equal(r.received.length + r.rejected, 0, 'nothing reached the receiver');
  await d.stop();
  await api.ctx.db.delete(webhookEndpoint).where(eq(webhookEndpoint.id, endpoint.id));
});

test('two dispatchers (two api instances) racing over one queue send every delivery exactly once', async () => {
  const r = await receiver();
  const endpoint = await endpointFor(r);
  const events = Array.from({ length: 80 }, readyEvent);
  for (const event of events) await fanOut(api.ctx.db, event);
  const second = connectDatabase(api.databaseUrl);
  closers.push(() => second.close());
  const [a, b] = [dispatcher({ concurrency: 4 }), dispatcher({ concurrency: 4 }, second.db)];
  await r.waitFor((got) => got.length >= events.length, 30_000, 'every event');
  await new Promise((resolve) => setTimeout(resolve, 300));
  await Promise.all([a.stop(), b.stop()]);
  const ids = r.received.map((x) => x.id);
  assert.equal(ids.length, events.length, 'no event twice');
  assert.deepEqual(new Set(ids), new Set(events.map((e) => e.id)), 'webhook-id is the event id');
  assert.equal(r.rejected, 0);
  await api.ctx.db.delete(webhookEndpoint).where(eq(webhookEndpoint.id, endpoint.id));
});

test('the delivery log pages through deliveries made in the same millisecond without skipping any', async () => {
  const r = await receiver();
  const endpoint = await endpointFor(r, ['media.ready']);
  const events = [readyEvent(), readyEvent(), readyEvent()];
  for (const event of events) await fanOut(api.ctx.db, event);
  // PostgreSQL keeps microseconds: three deliveries 100 µs apart share one JavaScript millisecond.
  await api.database.pool.query(
    `update webhook_delivery d set created_at = '2026-01-01T00:00:00.000100Z'::timestamptz + n.k * interval '100 microseconds'
       from (select id, row_number() over (order by id) as k from webhook_delivery where endpoint_id = $1) n
      where d.id = n.id`,
    [endpoint.id],
  );
  const seen: string[] = [];
  let before: string | null = null;
  do {
    const query: string = before ? `limit=1&before=${before}` : 'limit=1';
    const page = (
      await asAdmin({ method: 'GET', url: `/v1/webhook-endpoints/${endpoint.id}/deliveries?${query}` })
    ).json();
    seen.push(...page.items.map((item: { eventId: string }) => item.eventId));
    before = page.nextBefore;
  } while (before && seen.length < 10);
  assert.deepEqual([...seen].sort(), events.map((e) => e.id).sort());
});

test('an endpoint failing for longer than the limit is disabled with its reason; re-enabling delivers what waited, same ids', async () => {
  const r = await receiver();
  const endpoint = await endpointFor(r, ['media.ready']);
  r.respond = (_req, res) =>
    res.writeHead(500, { 'content-type': 'text/plain' }).end(`down\u0000${'x'.repeat(5000)}`);
  const events = [readyEvent(), readyEvent(), readyEvent()];
  for (const event of events) await fanOut(api.ctx.db, event);
  const skipped = { ...readyEvent(), type: 'media.deleted' } as unknown as LifecycleEvent;
  assert.equal(await fanOut(api.ctx.db, skipped), 0, 'the filter holds other types back');
  const d = dispatcher({ retryBaseMs: 50, disableAfterMs: 400 });
  const url = `/v1/webhook-endpoints/${endpoint.id}`;
  const deadline = Date.now() + 30_000;
  let view = (await asAdmin({ method: 'GET', url })).json();
  while (view.enabled && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    view = (await asAdmin({ method: 'GET', url })).json();
  }
  assert.equal(view.enabled, false, 'disabled after sustained failure');
  assert.match(view.disabledReason, /^every attempt failed since .* \(last: HTTP 500\)$/);
  // An attempt claimed before the disabling may still be on its way; after it, nothing more comes.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const failedSoFar = r.received.length;
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.equal(r.received.length, failedSoFar, 'a disabled endpoint is not called');

  const log = (await asAdmin({ method: 'GET', url: `${url}/deliveries?limit=2` })).json();
  assert.equal(log.items.length, 2);
  assert.ok(log.nextBefore, 'a next page');
  const page2 = (
    await asAdmin({ method: 'GET', url: `${url}/deliveries?limit=2&before=${log.nextBefore}` })
  ).json();
  assert.equal(page2.items.length, 1);
  const first = log.items[0];
  assert.equal(first.state, 'pending');
  assert.ok(first.attemptLog.length >= 1);
  assert.equal(first.attemptLog[0].statusCode, 500);
  assert.ok(first.attemptLog[0].responseExcerpt.length <= 1024, 'the excerpt is at most 1 KiB');
  assert.match(first.attemptLog[0].responseExcerpt, /^down\uFFFDxxx/);

  r.respond = (_req, res) => res.writeHead(200).end('ok');
  const enabled = await asAdmin({ method: 'PATCH', url, payload: { enabled: true } });
  assert.equal(enabled.json().enabled, true);
  assert.equal(enabled.json().disabledReason, null);
  await r.waitFor(
    (got) => events.every((e) => got.slice(failedSoFar).some((x) => x.id === e.id)),
    10_000,
    'the held events',
  );
  assert.ok(
    r.received.every((x) => events.some((e) => e.id === x.id)),
    'every attempt carried its event id',
  );

  // The receiver has them before the dispatcher has recorded its answer.
  let delivered = { items: [] as { id: string; eventId: string }[] };
  while (delivered.items.length < events.length && Date.now() < deadline + 10_000) {
    delivered = (await asAdmin({ method: 'GET', url: `${url}/deliveries?state=delivered` })).json();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(delivered.items.length, events.length);
  // This API refuses private networks: its redelivery to the loopback receiver is refused and logged.
  const target = delivered.items[0] as { id: string; eventId: string };
  const before = r.received.length;
  const refused = await asAdmin({ method: 'POST', url: `${url}/deliveries/${target.id}/redeliver` });
  assert.equal(refused.statusCode, 200, refused.body);
  assert.equal(refused.json().state, 'delivered', 'a failed manual attempt leaves the delivery as it was');
  assert.equal(refused.json().lastStatus, 200, 'its last answer is still the one that delivered it');
  assert.equal(refused.json().lastError, null);
  assert.equal(refused.json().attemptLog[0].trigger, 'manual');
  assert.match(refused.json().attemptLog[0].error, /loopback/);
  await assert.rejects(
    runWebhooks({ ...api.config, databaseUrl: api.databaseUrl }, [
      'redeliver',
      '--endpoint',
      endpoint.id,
      '--delivery',
      target.id,
    ]),
    /redelivery failed: .*loopback.* \(the delivery stays delivered\)/,
    'the CLI fails (exits non-zero) when its redelivery is refused',
  );
  const settings = { ...api.config.webhooks, allowPrivateNetworks: true };
  const again = await redeliver(api.ctx.db, settings, endpoint.id, target.id);
  assert.equal(again.attemptLog[0]?.statusCode, 200);
  assert.deepEqual(
    r.received.slice(before).map((x) => x.id),
    [target.eventId],
    'a redelivery keeps the webhook-id',
  );

  const queued = await asAdmin({ method: 'POST', url: `${url}/test` });
  assert.equal(queued.statusCode, 202);
  await r.waitFor((got) => got.some((x) => x.type === 'webhook.test'), 5000, 'the test event');
  await d.stop();
});

test('a hanging endpoint holds only its own share of the slots: another endpoint is served meanwhile', async () => {
  await api.ctx.db.delete(webhookEndpoint);
  const [slow, healthy] = [await receiver(), await receiver()];
  const held: ServerResponse[] = [];
  slow.respond = (_req, res) => held.push(res);
  const slowEndpoint = await endpointFor(slow, ['media.ready']);
  const healthyEndpoint = await endpointFor(healthy, ['media.deleted']);
  // The slow endpoint's deliveries are older, so they come first in the queue.
  for (let i = 0; i < 8; i++) await fanOut(api.ctx.db, readyEvent());
  const deletions = Array.from({ length: 3 }, () => ({ ...readyEvent(), type: 'media.deleted' }));
  for (const event of deletions) await fanOut(api.ctx.db, event as unknown as LifecycleEvent);
  const d = dispatcher({ concurrency: 4, endpointConcurrency: 2, timeoutMs: 120_000 });
  await healthy.waitFor((got) => got.length >= deletions.length, 20_000, 'the healthy endpoint’s events');
  assert.equal(held.length, 2, 'the hanging receiver holds exactly its cap and nothing was answered');
  assert.equal(slow.received.length, 2, 'no more attempts went to the hanging endpoint');
  slow.respond = (_req, res) => res.writeHead(204).end();
  for (const res of held) res.writeHead(204).end();
  await slow.waitFor((got) => got.length >= 8, 20_000, 'the slow endpoint’s events once it answers');
  await d.stop();
  await api.ctx.db.delete(webhookEndpoint).where(eq(webhookEndpoint.id, slowEndpoint.id));
  await api.ctx.db.delete(webhookEndpoint).where(eq(webhookEndpoint.id, healthyEndpoint.id));
});

test('an endpoint deleted while its attempt is on the way: the outcome is dropped quietly, never an error', async () => {
  const r = await receiver();
  let release: (() => void) | undefined;
  r.respond = (_req, res) => {
    release = () => res.writeHead(200).end('ok');
  };
  const endpoint = await endpointFor(r);
  await fanOut(api.ctx.db, readyEvent());
  const lines: { level: number; msg: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const d = startDispatcher({
    db: api.ctx.db,
    settings: { ...api.config.webhooks, allowPrivateNetworks: true, pollIntervalMs: 50 },
    logger,
  });
  closers.push(() => d.stop());
  await r.waitFor((got) => got.length === 1, 10_000, 'the attempt');
  const gone = await asAdmin({ method: 'DELETE', url: `/v1/webhook-endpoints/${endpoint.id}` });
  assert.equal(gone.statusCode, 204);
  release?.();
  const deadline = Date.now() + 10_000;
  while (!lines.some((l) => /deleted mid-attempt/.test(l.msg)) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50));
  await d.stop();
  assert.deepEqual(
    lines.filter((l) => l.level >= 40),
    [],
    'no warning or error for an outcome nobody can read',
  );
  assert.ok(lines.some((l) => l.level === 30 && /deleted mid-attempt/.test(l.msg)));
  const attempts = await api.ctx.db
    .select()
    .from(webhookAttempt)
    .where(eq(webhookAttempt.endpointId, endpoint.id));
  assert.equal(attempts.length, 0);
});
