import { randomUUID } from 'node:crypto';
import { signedHeaders } from '../api/webhooks/signature.ts';
import type { EndpointWithSecret } from '../contracts/webhook-endpoints.ts';
import { startPlatform } from '../test/harness.ts';
import { webhookBurst } from '../test/webhook-burst.ts';
import { startWebhookReceiver } from '../test/webhook-receiver.ts';
import { printTable } from './lib.ts';

// Outgoing webhook delivery latency on the separate-process stack (api, worker, edge; PostgreSQL, Kafka): a
// burst of lifecycle events committed in one transaction through the outbox, timed from each event's
// timestamp to its verified receipt, against a raw anchor: the same number of signed POSTs sent straight to
// the same receiver by one loop at the dispatcher's concurrency (no outbox, Kafka, fan-out or queue).

const events = Number(process.env.BENCH_EVENTS ?? 500);
const rounds = 3;
const concurrency = 16;

const receiver = await startWebhookReceiver();
const platform = await startPlatform({
  s3: 'embedded',
  env: {
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOK_CONCURRENCY: String(concurrency),
    LOG_LEVEL: 'error',
  },
});
try {
  const created = await fetch(`${platform.apiUrl}/v1/webhook-endpoints`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${platform.token('bench', { admin: true })}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ url: receiver.url }),
  });
  const endpoint = (await created.json()) as EndpointWithSecret;
  receiver.secret = endpoint.secret;
  await webhookBurst(platform.env.DATABASE_URL as string, receiver, 20); // warm-up: connections, JIT, topics

  const rows = [['run', 'events', 'p50 ms', 'p99 ms', 'max ms', 'all in ms', 'queued p50', 'queued p99']];
  for (let round = 1; round <= rounds; round++) {
    const f = await webhookBurst(platform.env.DATABASE_URL as string, receiver, events);
    rows.push([
      `mediagate ${round}`,
      ...[f.events, f.p50Ms, f.p99Ms, f.maxMs, f.drainMs, f.queuedP50Ms, f.queuedP99Ms].map(String),
    ]);
    const raw = await rawSends(receiver.url, endpoint.secret, events);
    rows.push([`raw POSTs ${round}`, String(events), ...raw.map(String), '', '']);
  }
  printTable(rows);
  console.log(
    'queued = event timestamp → its delivery row (outbox relay, Kafka, the webhooks consumer group, fan-out)',
  );
} finally {
  await platform.stop();
  await receiver.close();
}

/** p50, p99, max latency from the start and the whole time, for `count` POSTs at `concurrency`. */
async function rawSends(url: string, secret: string, count: number): Promise<number[]> {
  const start = Date.now();
  const latencies: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const id = randomUUID();
      const body = JSON.stringify({
        id,
        version: 1,
        type: 'media.updated',
        timestamp: new Date(start).toISOString(),
        data: {},
      });
      await fetch(url, {
        method: 'POST',
        headers: { ...signedHeaders([secret], id, body), 'content-type': 'application/json' },
        body,
      });
      latencies.push(Date.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return [at(0.5), at(0.99), latencies.at(-1) ?? 0, Date.now() - start];
}
