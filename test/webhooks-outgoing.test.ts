import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { DeliveryList, EndpointWithSecret } from '../contracts/webhook-endpoints.ts';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { mediagate } from './media-flow.ts';
import { uploadPhoto } from './photos.ts';
import { webhookBurst } from './webhook-burst.ts';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.ts';

/**
 * Outgoing webhooks end to end on the separate-process stack and Kafka: lifecycle events from real uploads
 * and changes reach a real receiver that verifies each with `standardwebhooks`, through the relay, the
 * `webhooks` consumer group and the dispatcher. The retry schedule is scaled down (10 ms base: caps 10 ms,
 * 0.6 s, 3.6 s, 14.4 s…) so an outage of a few seconds is retried through within a test.
 */
let platform: Platform;
let receiver: WebhookReceiver;
let endpoint: EndpointWithSecret;

before(async () => {
  receiver = await startWebhookReceiver();
  platform = await startPlatform({
    env: {
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WEBHOOK_RETRY_BASE_MS: '10',
      WEBHOOK_POLL_INTERVAL_MS: '200',
      WEBHOOK_CONCURRENCY: '32',
    },
  });
  endpoint = await mediagate<EndpointWithSecret>(platform, ['webhooks', 'add', '--url', receiver.url]);
  receiver.secret = endpoint.secret;
});
after(async () => {
  await platform?.stop();
  await receiver?.close();
});

const admin = () => apiClient(platform, platform.token('ops', { admin: true }));

test('an upload becomes ready and the app receives media.ready, signed', async () => {
  const owner = apiClient(platform, platform.token('webhook-app-user'));
  const media = await uploadPhoto(owner, await makeJpegWithGps(640, 480, { lat: 48.85, lon: 2.35 }));
  assert.equal(media.status, 'ready');
  await receiver.waitFor(
    (got) => got.some((r) => r.type === 'media.ready' && r.payload.data.mediaId === media.id),
    30_000,
    'media.ready',
  );
  const ready = receiver.received.find(
    (r) => r.payload.data.mediaId === media.id && r.type === 'media.ready',
  );
  assert.ok(ready);
  assert.equal(ready.id, ready.payload.id, 'webhook-id is the event id');
  assert.equal(ready.payload.data.ownerId, 'webhook-app-user');
  assert.ok((ready.payload.data.variants as unknown[]).length > 0, 'with its renditions');
  assert.equal(receiver.rejected, 0, 'every request verified');
});

test('a receiver that refuses connections, then answers 500, then recovers gets every event, each under its one id', async () => {
  const owner = apiClient(platform, platform.token('flaky-app-user'));
  const media = await uploadPhoto(owner, await makeJpegWithGps(320, 240, { lat: 41.9, lon: 12.5 }));
  await receiver.waitFor(
    (got) => got.some((r) => r.payload.data.mediaId === media.id),
    30_000,
    'the ready event',
  );
  const port = receiver.port;
  await receiver.close();
  const changes = 8;
  for (let i = 0; i < changes; i++) {
    const visibility = i % 2 === 0 ? 'public' : 'private';
    const patched = await owner.call('PATCH', `/v1/media/${media.id}`, { visibility });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
  }
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await receiver.listen(port);
  // The outage lasts until the receiver has answered 500 twice, not a fixed time: retries back off, so a
  // fixed window could fall between two attempts.
  let failedAnswers = 0;
  receiver.respond = (_req, res) => {
    failedAnswers++;
    res.writeHead(500).end('upstream is down');
  };
  const outageEnds = Date.now() + 60_000;
  while (failedAnswers < 2 && Date.now() < outageEnds)
    await new Promise((resolve) => setTimeout(resolve, 100));
  receiver.respond = (_req, res) => res.writeHead(204).end();

  const updates = () =>
    receiver.received.filter((r) => r.type === 'media.updated' && r.payload.data.mediaId === media.id);
  const log = async () =>
    (await admin().get<DeliveryList>(`/v1/webhook-endpoints/${endpoint.id}/deliveries?limit=200`)).body;
  const deadline = Date.now() + 120_000;
  let deliveries = await log();
  const mine = () =>
    deliveries.items.filter(
      (d) => d.eventType === 'media.updated' && updates().some((u) => u.id === d.eventId),
    );
  while (Date.now() < deadline) {
    deliveries = await log();
    const pending = deliveries.items.filter(
      (d) => d.eventType === 'media.updated' && d.state !== 'delivered',
    );
    if (pending.length === 0 && new Set(updates().map((u) => u.id)).size >= changes) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  const byId = new Map<string, string[]>();
  for (const r of updates()) byId.set(r.id, [...(byId.get(r.id) ?? []), JSON.stringify(r.payload)]);
  assert.equal(byId.size, changes, 'one id per change: nothing lost, no new id for a retried event');
  for (const [id, bodies] of byId) {
    assert.equal(new Set(bodies).size, 1, `${id}: every attempt carried the same event`);
    assert.equal(JSON.parse(bodies[0] as string).id, id);
  }
  const settled = mine();
  assert.equal(settled.length, changes);
  for (const delivery of settled) assert.equal(delivery.state, 'delivered', JSON.stringify(delivery));
  const attempts = settled.flatMap((d) => d.attemptLog);
  assert.ok(
    attempts.some((a) => a.statusCode === null && /ECONNREFUSED/.test(a.error ?? '')),
    'refused attempts logged',
  );
  assert.ok(
    attempts.some((a) => a.statusCode === 500 && a.responseExcerpt === 'upstream is down'),
    '500s logged with their body',
  );
  assert.ok(
    settled.every((d) => d.attemptLog[0]?.statusCode === 204),
    'each ends delivered',
  );
  console.log(
    `outage: ${changes} events, ${attempts.length} attempts (${attempts.filter((a) => a.statusCode !== 204).length} failed) before all were delivered`,
  );
});

test('a burst of 500 events: delivery latency from the event to the receiver', async () => {
  const figures = await webhookBurst(platform.env.DATABASE_URL as string, receiver, 500);
  console.log(
    `webhook burst on Kafka: ${figures.events} events, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, max ${figures.maxMs} ms, all received in ${figures.drainMs} ms; queued for the dispatcher (relay, Kafka, fan-out) p50 ${figures.queuedP50Ms} ms, p99 ${figures.queuedP99Ms} ms`,
  );
  assert.equal(receiver.rejected, 0);
  const metrics = await (await fetch(platform.metricsUrls.api)).text();
  const delivered = metrics.match(/^mediagate_webhook_deliveries_total\{outcome="delivered"\} (\d+)/m);
  assert.ok(Number(delivered?.[1]) >= figures.events, 'the api counts what it delivered');
  assert.match(
    metrics,
    /^mediagate_webhook_attempt_duration_seconds_count\{outcome="network_error"\} [1-9]/m,
  );
  assert.match(metrics, /^mediagate_webhook_endpoints_state\{state="enabled"\} 1$/m);
});
