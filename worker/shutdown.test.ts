import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, request as forward, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { type Relay, startRelay } from '../api/outbox/relay.ts';
import { subscribeResults } from '../api/results/results-consumer.ts';
import type { MediaView } from '../contracts/media.ts';
import type { Bus, Subscription } from '../platform/bus/bus.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';
import { makeLargeJpeg } from './image/test-images.ts';
import { makeH264Clip } from './video/test-fixtures.ts';
import { startWorker } from './worker.ts';

/**
 * Stopping a worker mid-job (Ctrl-C on `npm start`, a rolling deploy): the job's downloads, encodes and
 * uploads are cancelled and have finished before its temp dir goes, nothing escapes as an unhandled error,
 * and the job goes back to the bus as it was, so the next worker makes the media ready.
 */
let api: InProcessApi;
let bus: Bus;
let relay: Relay;
let results: Subscription;
let proxy: StallingProxy;
let fixtures: string;
const escaped: unknown[] = [];
const onEscape = (error: unknown) => escaped.push(error);

before(async () => {
  process.on('uncaughtException', onEscape);
  process.on('unhandledRejection', onEscape);
  api = await startInProcessApi();
  bus = api.ctx.deadLetters as unknown as Bus;
  results = await subscribeResults(api.ctx.db, api.ctx.storage, bus, api.ctx.logger, new Registry());
  relay = startRelay({ connectionString: api.databaseUrl, bus, logger: api.ctx.logger, pollIntervalMs: 100 });
  proxy = await startStallingProxy(api.s3Endpoint);
  fixtures = await mkdtemp(join(tmpdir(), 'mediagate-shutdown-'));
});

after(async () => {
  await relay?.stop();
  await results?.stop();
  await proxy?.close();
  await api?.stop();
  if (fixtures) await rm(fixtures, { recursive: true, force: true });
  process.off('uncaughtException', onEscape);
  process.off('unhandledRejection', onEscape);
});

for (const kind of ['image', 'video'] as const) {
  test(`a worker stopped while a ${kind}'s output upload is in flight unwinds cleanly and hands the job back`, {
    timeout: 120_000,
  }, async () => {
    const owner = `shutdown-${kind}`;
    const [bytes, contentType] =
      kind === 'image'
        ? [await makeLargeJpeg(3000, 2000), 'image/jpeg']
        : [
            await readFile(
              await makeH264Clip(fixtures, 'clip.mp4', {
                width: 1280,
                height: 720,
                seconds: 6,
                faststart: true,
              }),
            ),
            'video/mp4',
          ];
    // The first worker reaches storage through a proxy that holds its first derivative upload open.
    const stalled = proxy.stallNextDerivedPut();
    const first = await startWorker({
      config: api.config,
      storage: createS3Storage({ ...api.config.s3, endpoint: proxy.endpoint }),
      bus,
      logger: api.ctx.logger,
    });
    const mediaId = await complete(owner, bytes, contentType);
    await stalled.started;
    // Video: the encoder goes on meanwhile, queueing uploads behind the held one.
    if (kind === 'video') await sleep(1000);

    const stopping = performance.now();
    const stopped = first.stop();
    // Storage answering late must not revive uploads of files the stop is removing.
    setTimeout(() => stalled.release(), 200);
    await stopped;
    console.log(`${kind}: worker stopped mid-upload in ${Math.round(performance.now() - stopping)} ms`);

    assert.deepEqual(escaped, [], 'no error escaped as uncaught');
    assert.equal(await stalled.cancelledByClient, true, 'the upload in flight was cancelled');
    assert.deepEqual(await readdir(api.config.worker.tempDir), [], 'the job left no temp files');
    const jobs = await api.database.pool.query(
      `select state, retry_count from bus.job where name like '%optimize.request.worker'
        and data->'payload'->>'mediaId' = $1`,
      [mediaId],
    );
    assert.deepEqual(jobs.rows, [{ state: 'retry', retry_count: 0 }], 'handed back, no attempt spent');

    const second = await startWorker({
      config: api.config,
      storage: api.ctx.storage,
      bus,
      logger: api.ctx.logger,
    });
    try {
      const view = await statusBecomes(owner, mediaId, 'ready');
      assert.ok(view.variants.length > 0);
    } finally {
      await second.stop();
    }
    assert.deepEqual(escaped, []);
  });
}

async function complete(owner: string, bytes: Buffer, contentType: string): Promise<string> {
  const session = await api.uploadCompleted(owner, bytes, contentType, `upload.${contentType.split('/')[1]}`);
  return session.mediaId;
}

async function statusBecomes(owner: string, mediaId: string, status: string): Promise<MediaView> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const seen = (await api.call(owner, { method: 'GET', url: `/v1/media/${mediaId}` })).json() as MediaView;
    if (seen.status === status) return seen;
    assert.ok(Date.now() < deadline, `media stayed ${seen.status}, never ${status}`);
    await sleep(200);
  }
}

interface Stall {
  /** Resolves once the held upload reached the proxy. */
  started: Promise<void>;
  /** Lets the held upload through to storage, if its client is still sending it. */
  release(): void;
  /** Whether the client gave up on the held upload before storage answered it. */
  cancelledByClient: Promise<boolean>;
}

interface StallingProxy {
  endpoint: string;
  stallNextDerivedPut(): Stall;
  close(): Promise<void>;
}

/** An HTTP proxy in front of the S3 server (Host kept, so signatures verify) that can hold one upload. */
async function startStallingProxy(target: string): Promise<StallingProxy> {
  const upstream = new URL(target);
  let armed: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;
  const server = createServer((req, res) => {
    if (armed?.(req, res)) return;
    const out = forward(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (reply) => {
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stallNextDerivedPut() {
      let started!: () => void;
      let settle!: (cancelled: boolean) => void;
      let release = () => {};
      const stall: Stall = {
        started: new Promise((resolve) => {
          started = resolve;
        }),
        cancelledByClient: new Promise((resolve) => {
          settle = resolve;
        }),
        release: () => release(),
      };
      armed = (req, res) => {
        if (req.method !== 'PUT' || !req.url?.includes('/derived/')) return false;
        armed = undefined;
        let answered = false;
        req.once('data', () => req.pause());
        req.socket.once('close', () => settle(!answered));
        release = () => {
          if (req.socket.destroyed) return;
          answered = true;
          req.resume();
          // Storage "answers" at last, as if the PUT had gone through.
          req.once('end', () => res.writeHead(200, { 'content-length': '0' }).end());
        };
        started();
        return true;
      };
      return stall;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
