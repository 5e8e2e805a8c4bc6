import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { completeUpload, inBatches, settled, storeUpload, traceMedia } from './media-flow.ts';

// Fault stories on the real broker: processes and the broker die the hard way while work is in flight.
let platform: Platform;
const paris = { lat: 48.8584, lon: 2.2945 };

before(async () => {
  platform = await startPlatform({ bus: 'kafka', env: { BUS_RETRY_BASE_MS: '200' } });
});
after(() => platform?.stop());

const client = (sub: string) => apiClient(platform, platform.token(sub));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('kafka faults', () => {
  test('a worker killed with SIGKILL mid-job: a new worker takes the job over and the photo becomes ready', async () => {
    const alice = client('alice');
    // 12 MP: the ladder takes long enough for the kill to land while the job runs.
    const photo = await makeJpegWithGps(4000, 3000, paris, 1);
    const upload = await storeUpload(alice, photo);
    const workDirs = join(platform.env.DATA_DIR as string, 'tmp');
    await completeUpload(alice, upload);

    // The worker makes a work directory per request when it starts a job and removes it when the job ends.
    const job = await until('the worker to start the job', async () => (await readdir(workDirs))[0]);
    await platform.roles.worker.stop('SIGKILL');
    assert.equal(platform.roles.worker.child.signalCode, 'SIGKILL');
    assert.ok(existsSync(join(workDirs, job)), 'the job was cut off before it could clean up');
    assert.equal(
      (await alice.get<{ status: string }>(`/v1/media/${upload.session.mediaId}`)).body.status,
      'processing',
    );

    await platform.restart('worker');
    // The dead member keeps its partitions until its Kafka session (30 s) expires; then the new worker gets them.
    const media = await settled(platform, alice, upload.session.mediaId, 120_000);
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    const trace = await traceMedia(platform, upload.session.mediaId);
    assert.equal(trace.outbox.length, 1);
    assert.ok(
      trace.variants.every((v) => v.objectKey.includes(`/${job}/`)),
      'the new worker redid the interrupted request, not some other one',
    );
  });

  test('the broker restarted during a burst of 200 uploads: every photo becomes ready, each with one set of variants', async () => {
    const kafka = platform.kafka;
    assert.ok(kafka, 'this story restarts the broker the harness starts (unset KAFKA_BROKERS)');
    // 200 different photos from ten users (each under the per-user session rate limit): none is a twin of another.
    const stored = await inBatches(
      Array.from({ length: 200 }, (_, i) => i),
      20,
      async (i) => {
        const user = client(`burst-${i % 10}`);
        const photo = await makeJpegWithGps(800, 600, { lat: 40 + i / 100, lon: 2 }, 1);
        return { user, upload: await storeUpload(user, photo) };
      },
    );

    let outage: Promise<void> | undefined;
    for (let start = 0; start < stored.length; start += 20) {
      // After the first 60, the broker dies hard and comes back while the rest are completed.
      if (start === 60) outage = kafka.kill().then(() => kafka.restart());
      await Promise.all(
        stored.slice(start, start + 20).map(({ user, upload }) => completeUpload(user, upload)),
      );
    }
    await outage;

    for (const { user, upload } of stored) {
      const media = await settled(platform, user, upload.session.mediaId, 180_000);
      assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    }
    for (const { upload } of stored) {
      const trace = await traceMedia(platform, upload.session.mediaId);
      const qualities = trace.variants.map((v) => v.quality);
      assert.equal(new Set(qualities).size, qualities.length, `duplicate variants: ${qualities}`);
      assert.deepEqual(qualities.toSorted(), ['high', 'low', 'medium', 'thumbnail']);
      assert.equal(trace.outbox.length, 1);
      const requestId = trace.outbox[0]?.id;
      assert.ok(
        trace.variants.every((v) => v.objectKey.includes(`/${requestId}/`)),
        'keys of one request',
      );
      assert.equal(trace.events.filter((e) => e.toStatus === 'ready').length, 1, 'one result applied');
    }
  });
});
