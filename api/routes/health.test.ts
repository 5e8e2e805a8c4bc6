import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { consumeInBackground } from '../../cli/background-consumer.ts';
import { createTokenVerifier } from '../../platform/auth/jwt.ts';
import type { Bus } from '../../platform/bus/bus.ts';
import { createS3Storage } from '../../platform/storage/s3-storage.ts';
import { type InProcessApi, startInProcessApi } from '../../test/in-process.ts';
import { buildApiServer } from '../server.ts';
import { createApiReadiness } from './health.ts';

/** `/readyz` tells a load balancer whether the API can do its work: database, bucket, bus consumers. */
let api: InProcessApi;

before(async () => {
  api = await startInProcessApi();
});
after(() => api?.stop());

interface Report {
  status: string;
  ready: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

describe('readiness', () => {
  test('ready when the database and the bucket answer; metrics are not on the public port', async () => {
    const ready = await api.call(undefined, { method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    const report = ready.json() as Report;
    assert.deepEqual(report.checks, { database: { ok: true }, storage: { ok: true } });
    const metrics = await api.call(undefined, { method: 'GET', url: '/metrics' });
    assert.equal(metrics.statusCode, 404);
  });

  test('a missing bucket: not ready, naming the bucket; requests that need it get 503 storage_bucket_missing', async () => {
    const bucket = 'no-such-bucket-here';
    const ctx = { ...api.ctx, storage: createS3Storage({ ...api.config.s3, bucket }) };
    const app = await buildApiServer(ctx, createTokenVerifier(api.config.auth), new Registry());
    try {
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(ready.statusCode, 503);
      const report = ready.json() as Report;
      assert.equal(report.checks.database?.ok, true);
      assert.equal(report.checks.storage?.ok, false);
      assert.match(report.checks.storage?.detail ?? '', /bucket "no-such-bucket-here" does not exist/);

      const created = await app.inject({
        method: 'POST',
        url: '/v1/uploads',
        headers: { authorization: `Bearer ${api.token('bucketless')}` },
        payload: { filename: 'a.jpg', contentType: 'image/jpeg', size: 1000 },
      });
      assert.equal(created.statusCode, 503, created.body);
      assert.equal(created.json().code, 'storage_bucket_missing');
      assert.ok(Number(created.headers['retry-after']) > 0);
    } finally {
      await app.close();
    }
  });

  test('not ready until the bus consumers have joined; a consumer that cannot start is retried, not fatal', async () => {
    const readiness = createApiReadiness(api.ctx);
    const app = await buildApiServer(
      api.ctx,
      createTokenVerifier(api.config.auth),
      new Registry(),
      readiness,
    );
    const bus = api.ctx.deadLetters as unknown as Bus;
    let attempts = 0;
    let letJoin: () => void = () => {};
    const joined = new Promise<void>((resolve) => {
      letJoin = resolve;
    });
    const consumer = consumeInBackground('results consumer', readiness, api.ctx.logger, async () => {
      attempts++;
      if (attempts === 1) throw new Error('broker unreachable');
      await joined;
      return bus.subscribe('readiness.probe', 'probe', async () => {});
    });
    try {
      const readyz = async () => {
        const reply = await app.inject({ method: 'GET', url: '/readyz' });
        return { statusCode: reply.statusCode, report: reply.json() as Report };
      };
      const joining = await readyz();
      assert.equal(joining.statusCode, 503);
      assert.equal(joining.report.checks['results consumer']?.ok, false);

      while (attempts < 2) await sleep(50);
      letJoin();
      for (let i = 0; (await readyz()).statusCode !== 200; i++) {
        assert.ok(i < 200, 'the consumer joined but readiness never said so');
        await sleep(50);
      }
      assert.deepEqual((await readyz()).report.checks['results consumer'], { ok: true });
    } finally {
      await consumer.stop();
      await app.close();
    }
  });
});
