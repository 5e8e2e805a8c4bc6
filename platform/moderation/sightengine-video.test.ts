import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type SightengineDouble, startSightengineDouble } from '../../test/vendors/sightengine-double.ts';
import { ModerationVendorError } from './moderation.ts';
import { sightengineDefaultModels, sightengineDefaultThresholds } from './sightengine.ts';
import { createSightengineVideoClient, readVideoJob, videoVerdict } from './sightengine-video.ts';

const frame = (position: number, gore: number) => ({
  info: { id: `med_x_${position}`, position },
  nudity: { sexual_activity: 0.01, sexual_display: 0.01, none: 0.99 },
  weapon: { classes: { firearm: 0.01, knife: 0.01 } },
  gore: { prob: gore, classes: { very_bloody: 0.01 } },
});
const callback = (status: string, frames: unknown[]) => ({
  media: { id: 'med_x', uri: 'https://storage/raw/x' },
  request: 'req_1',
  data: { status, started: 1, last_update: 2, operations: frames.length, frames, extra: { added: true } },
  vendorAddsFields: 1,
});

test('a finished callback is read as the job and its frames, judged by the worst frame', () => {
  const job = readVideoJob(callback('finished', [frame(0, 0.01), frame(4000, 0.93), frame(8000, 0.02)]));
  assert.equal(job?.status, 'finished');
  assert.equal(job?.vendorMediaId, 'med_x');
  assert.equal(job?.frames.length, 3);
  assert.ok(!('info.position' in (job?.frames[1] ?? {})), 'a frame position is no score');
  assert.equal(job?.frames[1]?.gore, 0.93);
  const verdict = job && videoVerdict(job, sightengineDefaultThresholds);
  assert.equal(verdict?.decision, 'reject');
  assert.deepEqual(verdict?.decision === 'reject' ? verdict.categories : [], [{ name: 'gore', score: 0.93 }]);

  const clean = readVideoJob(callback('finished', [frame(0, 0.01), frame(4000, 0.05)]));
  assert.deepEqual(clean && videoVerdict(clean, sightengineDefaultThresholds), { decision: 'allow' });
});

test('ongoing, stopped and failure states; what names no job is not a job', () => {
  const ongoing = readVideoJob(callback('ongoing', [frame(0, 0.99)]));
  assert.equal(ongoing?.status, 'ongoing');
  assert.equal(ongoing && videoVerdict(ongoing, sightengineDefaultThresholds), undefined, 'no verdict yet');
  assert.equal(readVideoJob(callback('stopped', []))?.status, 'finished');
  const failed = readVideoJob({
    media: { id: 'med_x' },
    data: { status: 'failure', error: { type: 'media_error', message: 'could not download' } },
  });
  assert.equal(failed?.status, 'failure');
  assert.match(failed?.error ?? '', /could not download/);
  for (const body of [
    null,
    [],
    'finished',
    { data: { status: 'finished' } },
    { media: { id: 7 }, data: { status: 'finished' } },
    { media: { id: 'med_x' }, data: { status: 'exploded' } },
    { media: { id: 'med_x' }, data: { status: 'finished', frames: 'lots' } },
  ]) {
    const job = readVideoJob(body);
    assert.ok(job === undefined || job.frames.length === 0, JSON.stringify(body));
  }
});

let double: SightengineDouble;
let media: ReturnType<typeof createServer>;
let receiver: ReturnType<typeof createServer>;
const received: unknown[] = [];
const url = (server: ReturnType<typeof createServer>) =>
  `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

before(async () => {
  double = await startSightengineDouble();
  media = createServer((_req, res) => res.end(Buffer.alloc(4096, 1)));
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString()));
      res.end('{}');
    });
  });
  await Promise.all([media, receiver].map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
});
after(async () => {
  await double.close();
  media.close();
  receiver.close();
});

test('the client submits with a callback, the vendor downloads and calls back, and the status endpoint confirms', async () => {
  const client = createSightengineVideoClient({
    apiUser: double.apiUser,
    apiSecret: double.apiSecret,
    baseUrl: double.baseUrl,
    models: sightengineDefaultModels,
    timeoutMs: 2000,
  });
  double.video.plan({ scores: { 'weapon.classes.firearm': 0.9 } });
  const id = await client.submit(`${url(media)}/raw/video`, `${url(receiver)}/cb/token`);
  await double.video.settled();
  const job = double.video.jobs.find((j) => j.id === id);
  assert.equal(job?.fetchedBytes, 4096, 'the vendor read the media from the URL it was given');
  assert.equal(readVideoJob(received.at(-1))?.vendorMediaId, id);

  const status = await client.status(id);
  assert.equal(status.status, 'finished');
  const verdict = videoVerdict(status, sightengineDefaultThresholds);
  assert.equal(verdict?.decision, 'reject');

  const wrong = createSightengineVideoClient({
    apiUser: double.apiUser,
    apiSecret: 'wrong',
    baseUrl: double.baseUrl,
    models: sightengineDefaultModels,
    timeoutMs: 2000,
  });
  await assert.rejects(wrong.status(id), (e) => e instanceof ModerationVendorError && !e.retryable);
  await assert.rejects(
    wrong.submit(`${url(media)}/raw/video`, `${url(receiver)}/cb`),
    (e) => e instanceof ModerationVendorError && e.status === 401,
  );
});
