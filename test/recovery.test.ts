import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import {
  completeUpload,
  inBatches,
  type StoredUpload,
  settled,
  storeUpload,
  traceMedia,
} from './media-flow.ts';
import { type RoleProcess, spawnRole } from './processes.ts';

// Recovery stories on the real broker, each role its own process: a worker, the broker and the api die the
// hard way while work is in flight. Nothing may be lost or done twice; how long each recovery took is printed
// (figures, not pass/fail: a generous ceiling only proves that it recovers at all).
let platform: Platform;
/** A second worker beside the harness's one, so that a killed worker leaves a survivor to take over. */
let second: RoleProcess;
const recoversWithinMs = 60_000;

async function startSecondWorker(): Promise<void> {
  // Its own temp dir tells its jobs from the first worker's.
  second = spawnRole('worker', { ...platform.env, WORKER_TEMP_DIR: secondTemp() });
  await until('the second worker to join', async () => (joinsOf(second).length > 0 ? true : undefined));
}

const secondTemp = () => join(platform.env.DATA_DIR as string, 'tmp-second');

/** Both workers: whose jobs are in which temp dir, and how to bring each back after a kill. */
function fleet() {
  return [
    {
      name: "the harness's worker",
      role: platform.roles.worker,
      temp: join(platform.env.DATA_DIR as string, 'tmp'),
      restart: () => platform.restart('worker'),
    },
    { name: 'the second worker', role: second, temp: secondTemp(), restart: startSecondWorker },
  ];
}

before(async () => {
  // Info logs say when each worker's group membership changes.
  platform = await startPlatform({ bus: 'kafka', env: { BUS_RETRY_BASE_MS: '200', LOG_LEVEL: 'info' } });
  await startSecondWorker();
});
after(async () => {
  await second?.stop();
  await platform?.stop();
});

interface Upload {
  user: ReturnType<typeof client>;
  upload: StoredUpload;
}

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

/** When (epoch ms) the role's Kafka consumer joined its group, from its info log. */
function joinsOf(role: RoleProcess): number[] {
  return role.output.flatMap((line) => {
    if (!line.includes('Kafka consumer joined its group')) return [];
    return [(JSON.parse(line) as { time: number }).time];
  });
}

/** `count` different photos from a few users (each under the per-user session rate limit), stored, not completed. */
async function storePhotos(label: string, count: number, width = 800, height = 600): Promise<Upload[]> {
  return inBatches(
    Array.from({ length: count }, (_, i) => i),
    10,
    async (i) => {
      const user = client(`${label}-${i % 5}`);
      const photo = await makeJpegWithGps(width, height, { lat: 40 + i / 100, lon: 2 }, 1);
      return { user, upload: await storeUpload(user, photo) };
    },
  );
}

/**
 * Waits for every upload to become ready, asserts each has one set of variants from one request, and returns
 * when (epoch ms, by the database clock) each became ready.
 */
async function readyTimes(uploads: Upload[]): Promise<number[]> {
  const times: number[] = [];
  for (const { user, upload } of uploads) {
    const media = await settled(platform, user, upload.session.mediaId, recoversWithinMs * 2);
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    const trace = await traceMedia(platform, upload.session.mediaId);
    const qualities = trace.variants.map((v) => v.quality);
    assert.deepEqual(
      qualities.toSorted(),
      ['high', 'high-avif', 'low', 'low-avif', 'medium', 'medium-avif', 'thumbnail', 'thumbnail-avif'],
      'one set of variants (each WebP rung and its AVIF sibling)',
    );
    const requests = trace.outbox.filter((o) => o.eventType === 'media.optimize.request');
    assert.equal(requests.length, 1, 'one optimize request');
    assert.equal(
      trace.outbox.filter((o) => o.eventType === 'media.ready').length,
      1,
      'one media.ready announced to apps',
    );
    const requestId = requests[0]?.id;
    assert.ok(
      trace.variants.every((v) => v.objectKey.includes(`/${requestId}/`)),
      'keys of one request',
    );
    const ready = trace.events.filter((e) => e.toStatus === 'ready');
    assert.equal(ready.length, 1, 'one result applied');
    times.push(Date.parse(ready[0]?.at as string));
  }
  return times;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe('recovery', () => {
  test('a worker killed with SIGKILL while uploads are in flight: the survivor takes its partitions and every photo becomes ready once', async (t) => {
    // 12 MP photos keep a worker busy when the kill lands; the small ones spread over every partition.
    const large = await storePhotos('large', 6, 4000, 3000);
    const small = await storePhotos('small', 24);
    await Promise.all(large.map(({ user, upload }) => completeUpload(user, upload)));
    // The victim is whichever worker starts one first: a photo's partition, and so its worker, follows from
    // its media id, and all six may hash to one worker's partitions.
    const workers = fleet();
    const { victim, job } = await until('a worker to start a job', async () => {
      for (const worker of workers) {
        const [job] = await readdir(worker.temp).catch(() => []);
        if (job) return { victim: worker, job };
      }
      return undefined;
    });
    const survivor = workers.find((worker) => worker !== victim)?.role as RoleProcess;

    await victim.role.stop('SIGKILL');
    const killedAt = Date.now();
    assert.ok(existsSync(join(victim.temp, job)), 'a job was cut off before it could clean up');
    await Promise.all(small.map(({ user, upload }) => completeUpload(user, upload)));

    const times = await readyTimes([...large, ...small]);
    const movedAt = joinsOf(survivor).find((at) => at >= killedAt);
    assert.ok(movedAt, 'the survivor was handed the partitions of the killed worker');
    t.diagnostic(
      `killed ${victim.name} → its partitions moved to the survivor: ${seconds(movedAt - killedAt)}`,
    );
    t.diagnostic(`killed worker → every in-flight photo ready: ${seconds(Math.max(...times) - killedAt)}`);
    assert.ok(movedAt - killedAt < recoversWithinMs, 'the partitions moved at all');

    // The next stories want two workers again.
    await victim.restart();
  });

  test('the broker down for 10 s while uploads complete: processing resumes after it returns, nothing lost or doubled', async (t) => {
    const kafka = platform.kafka;
    assert.ok(kafka, 'this story stops the broker the harness starts (unset KAFKA_BROKERS)');
    const uploads = await storePhotos('outage', 30);
    const [before, during, afterwards] = [uploads.slice(0, 10), uploads.slice(10, 25), uploads.slice(25)];
    // In flight when the broker goes: some requests are being relayed, some handled, some results published.
    await Promise.all(before.map(({ user, upload }) => completeUpload(user, upload)));
    await kafka.kill();
    const downAt = Date.now();
    await Promise.all(during.map(({ user, upload }) => completeUpload(user, upload)));
    await sleep(Math.max(0, 10_000 - (Date.now() - downAt)));
    await kafka.restart();
    const backAt = Date.now();
    t.diagnostic(`broker down for ${seconds(backAt - downAt)} (restart included)`);
    await Promise.all(afterwards.map(({ user, upload }) => completeUpload(user, upload)));

    const times = await readyTimes(uploads);
    const afterReturn = times.filter((at) => at > backAt);
    assert.ok(afterReturn.length > 0, 'media completed during the outage were processed after it');
    const first = Math.min(...afterReturn) - backAt;
    t.diagnostic(`broker back → first media ready: ${seconds(first)}`);
    t.diagnostic(`broker back → all ${uploads.length} ready: ${seconds(Math.max(...times) - backAt)}`);
    assert.ok(first < recoversWithinMs, 'processing resumed at all');
  });

  test('the api killed with SIGKILL and started again: it listens, and results keep flowing', async (t) => {
    const uploads = await storePhotos('api-crash', 10);
    await Promise.all(uploads.slice(0, 5).map(({ user, upload }) => completeUpload(user, upload)));
    await platform.roles.api.stop('SIGKILL');
    const killedAt = Date.now();
    await platform.restart('api');
    const listeningAt = Date.now();
    t.diagnostic(`api restart → listening: ${seconds(listeningAt - killedAt)}`);
    await Promise.all(uploads.slice(5).map(({ user, upload }) => completeUpload(user, upload)));
    const times = await readyTimes(uploads);
    t.diagnostic(`api restart → all ${uploads.length} ready: ${seconds(Math.max(...times) - killedAt)}`);
    assert.ok(listeningAt - killedAt < recoversWithinMs, 'the api came back at all');
  });
});
