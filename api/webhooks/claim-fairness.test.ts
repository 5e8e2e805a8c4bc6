// Middle tier: the dispatcher's claims on embedded PostgreSQL with real receivers.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type { LifecycleEvent } from '../../contracts/lifecycle.ts';
import { webhookEndpoint } from '../../db/schema.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../../test/webhook-receiver.ts';
import { startDispatcher } from './dispatcher.ts';
import { createEndpoint } from './endpoints.ts';
import { fanOut } from './fan-out.ts';

let api: InProcessApi;
const closers: (() => Promise<unknown>)[] = [];

before(async () => {
  api = await startInProcessApi();
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await api?.stop();
});

async function endpoint(eventType: LifecycleEvent['type']): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver();
  closers.push(() => r.close());
  const created = await createEndpoint(
    { db: api.ctx.db, allowPrivateNetworks: true },
    { url: r.url, eventTypes: [eventType] },
  );
  r.secret = created.secret;
  return r;
}

function event(type: 'media.ready' | 'media.deleted'): LifecycleEvent {
  const subject = { mediaId: randomUUID(), ownerId: 'u1', kind: 'image' as const };
  const data = type === 'media.ready' ? { ...subject, variants: [] } : { ...subject, by: 'owner' as const };
  return { id: randomUUID(), version: 1, type, timestamp: new Date().toISOString(), data } as LifecycleEvent;
}

test('a backlog to failing endpoints does not hold back another endpoint’s new event', async () => {
  await api.ctx.db.delete(webhookEndpoint);
  const down = [await endpoint('media.ready'), await endpoint('media.ready')];
  for (const r of down) r.respond = (_req, res) => res.writeHead(503).end();
  const healthy = await endpoint('media.deleted');
  const backlog = 30;
  for (let i = 0; i < backlog; i++) await fanOut(api.ctx.db, event('media.ready'));
  await fanOut(api.ctx.db, event('media.deleted'));
  const d = startDispatcher({
    db: api.ctx.db,
    // Retries far off: every attempt counted below is a first attempt of the backlog.
    settings: {
      ...api.config.webhooks,
      allowPrivateNetworks: true,
      pollIntervalMs: 50,
      concurrency: 4,
      endpointConcurrency: 2,
      retryBaseMs: 3_600_000,
    },
    logger: api.ctx.logger,
  });
  closers.push(() => d.stop());
  await healthy.waitFor((got) => got.length >= 1, 20_000, 'the healthy endpoint’s event');
  const before = down.reduce((n, r) => n + r.received.length, 0);
  assert.ok(
    before < backlog,
    `${before} of the ${2 * backlog} failing deliveries were tried before the healthy endpoint’s one`,
  );
  await d.stop();
});
