import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeJpegWithGps } from '../worker/image/test-images.ts';
import { apiClient } from './client.ts';
import { type Platform, startPlatform } from './harness.ts';
import { completeUpload, settled, storeUpload } from './media-flow.ts';
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from './otlp-receiver.ts';

// One upload, followed as an operator would in a tracing backend: the API's and the worker's spans, sent
// over OTLP/HTTP by separate processes, must form one trace from `complete` to `ready`.

const kind = { internal: 1, server: 2, producer: 4, consumer: 5 };

let receiver: OtlpReceiver;
let platform: Platform;

before(async () => {
  receiver = await startOtlpReceiver();
  // Info level: the suite reads the roles' own log lines. The trace has the same shape with or without AVIF
  // siblings, which only add encodes to the transform step.
  platform = await startPlatform({
    otlpEndpoint: receiver.endpoint,
    env: { LOG_LEVEL: 'info', IMAGE_AVIF_QUALITY: '0' },
  });
});
after(async () => {
  await platform?.stop();
  await receiver?.stop();
});

/** Waits until the receiver holds a span that `match` accepts (exports are batched every 200 ms). */
async function spanWhere(match: (span: ReceivedSpan) => boolean, what: string): Promise<ReceivedSpan> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const span = receiver.spans.find(match);
    if (span) return span;
    if (Date.now() > deadline) {
      const seen = receiver.spans.map((s) => `${s.service} ${s.name}`).join('\n');
      throw new Error(`no span ${what}; received:\n${seen}`);
    }
    await sleep(100);
  }
}

interface TraceView {
  traceId: string | null;
  outbox: { eventType: string; traceId: string | null }[];
  processing: {
    requestId: string;
    outcome: string;
    worker: { hostname: string; pid: number } | null;
    totalMs: number | null;
    steps: { name: string; startMs: number; ms: number; ok: boolean }[];
    request: { topic: string; partition: number; offset: string } | null;
    result: { topic: string; partition: number; offset: string } | null;
  }[];
}

describe('one trace from complete to ready, across the api and worker processes', () => {
  let mediaId: string;
  let traceId: string;
  let spans: ReceivedSpan[];
  const byName = (name: string) => {
    const found = spans.filter((s) => s.name === name);
    assert.equal(found.length, 1, `one ${name} span in the trace, got ${found.length}`);
    return found[0] as ReceivedSpan;
  };

  test('the upload becomes ready and every span of it shares the trace of its completion', async () => {
    const alice = apiClient(platform, platform.token('alice'));
    const photo = await makeJpegWithGps(1600, 1200, { lat: 48.8584, lon: 2.2945 });
    const media = await completeUpload(alice, await storeUpload(alice, photo));
    mediaId = media.id;
    assert.equal((await settled(platform, alice, mediaId)).status, 'ready');

    const completion = await spanWhere(
      (s) =>
        s.name === 'POST /v1/uploads/:uploadId/complete' && s.attributes['mediagate.media_id'] === mediaId,
      'for the completion',
    );
    traceId = completion.traceId;
    assert.equal(completion.service, 'mediagate-api');
    assert.equal(completion.kind, kind.server);
    assert.equal(completion.parentSpanId, '', 'the completion starts the trace');
    assert.equal(completion.attributes['http.response.status_code'], 202);

    await spanWhere(
      (s) => s.traceId === traceId && s.name === 'process optimize.result',
      'of the results consumer in the same trace',
    );
    // The worker's job span ends after it sent the result, so its export can trail the api's.
    await spanWhere(
      (s) => s.traceId === traceId && s.name === 'process optimize.request',
      'of the worker job in the same trace',
    );
    spans = receiver.spans.filter((s) => s.traceId === traceId);
    const services = new Set(spans.map((s) => s.service));
    assert.deepEqual([...services].sort(), ['mediagate-api', 'mediagate-worker']);
    const pids = new Set(spans.map((s) => s.resource['process.pid']));
    assert.equal(pids.size, 2, 'the spans come from two processes');
  });

  test('each span hangs from the one that caused it', () => {
    const completion = byName('POST /v1/uploads/:uploadId/complete');
    const gate = byName('gate');
    const created = byName('create optimize.request');
    const request = byName('process optimize.request');
    const sent = byName('send optimize.result');
    const applied = byName('process optimize.result');

    assert.equal(gate.parentSpanId, completion.spanId);
    assert.equal(gate.attributes['mediagate.gate.verdict'], 'pass');
    // The outbox row keeps the creation's context; the relay carries it to Kafka as `traceparent`.
    assert.equal(created.kind, kind.producer);
    assert.equal(created.parentSpanId, completion.spanId);
    assert.equal(request.service, 'mediagate-worker');
    assert.equal(request.kind, kind.consumer);
    assert.equal(request.parentSpanId, created.spanId, 'the worker continues the outbox row’s context');
    assert.equal(request.attributes['messaging.system'], 'kafka');
    assert.equal(request.attributes['mediagate.media_id'], mediaId);
    for (const step of ['download', 'transform', 'upload']) {
      assert.equal(byName(step).parentSpanId, request.spanId, `${step} is a step of the job`);
      assert.equal(byName(step).service, 'mediagate-worker');
    }
    assert.equal(sent.kind, kind.producer);
    assert.equal(sent.parentSpanId, request.spanId);
    assert.equal(applied.service, 'mediagate-api');
    assert.equal(applied.kind, kind.consumer);
    assert.equal(applied.parentSpanId, sent.spanId, 'the results consumer continues the worker’s result');
    assert.ok(
      spans.every((s) => s.status !== 2),
      'no span of a successful upload is an error',
    );
  });

  test('log lines written inside the trace carry its trace_id, in both processes', () => {
    const lines = (role: 'api' | 'worker', msg: string) =>
      platform.roles[role].output
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => entry.msg === msg && entry.mediaId === mediaId);
    const optimized = lines('worker', 'optimized');
    assert.equal(optimized.length, 1, 'the worker logged its job');
    assert.equal(optimized[0]?.trace_id, traceId);
    const applied = lines('api', 'optimize result');
    assert.ok(applied.length >= 1, 'the api logged the result');
    assert.ok(applied.every((entry) => entry.trace_id === traceId));
  });

  test('the ops trace view names the trace, the worker, its step durations and the Kafka offsets', async () => {
    const admin = apiClient(platform, platform.token('ops', { admin: true }));
    const reply = await admin.get<TraceView>(`/v1/ops/media/${mediaId}/trace`);
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    const view = reply.body;
    assert.equal(view.traceId, traceId);
    assert.equal(view.outbox.find((o) => o.eventType === 'media.optimize.request')?.traceId, traceId);
    assert.equal(view.processing.length, 1);
    const run = view.processing[0];
    assert.ok(run);
    assert.equal(run.outcome, 'ready');
    const workerSpan = byName('process optimize.request');
    assert.equal(run.worker?.pid, workerSpan.resource['process.pid']);
    assert.equal(run.worker?.hostname, workerSpan.resource['host.name']);
    assert.deepEqual(run.steps.map((s) => s.name).sort(), ['download', 'transform', 'upload']);
    assert.ok(run.steps.every((s) => s.ok && s.ms >= 0 && s.startMs <= (run.totalMs ?? 0)));
    const prefix = platform.env.KAFKA_TOPIC_PREFIX;
    assert.equal(run.request?.topic, `${prefix}optimize.request`);
    assert.equal(String(run.request?.offset), String(workerSpan.attributes['messaging.kafka.offset']));
    assert.equal(run.result?.topic, `${prefix}optimize.result`);
    assert.match(run.result?.offset ?? '', /^\d+$/);
    console.log(
      `steps of ${mediaId}: ${run.steps.map((s) => `${s.name} ${s.ms} ms`).join(', ')}; job ${run.totalMs} ms`,
    );
  });

  test('a caller’s traceparent is continued, and a malformed one only starts a new trace', async () => {
    const token = platform.token('alice');
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const read = (traceparent: string) =>
      fetch(`${platform.apiUrl}/v1/media/${mediaId}`, {
        headers: { authorization: `Bearer ${token}`, traceparent },
      });
    assert.equal((await read(`00-${callerTrace}-00f067aa0ba902b7-01`)).status, 200);
    const continued = await spanWhere(
      (s) => s.traceId === callerTrace && s.name === 'GET /v1/media/:mediaId',
      'continuing the caller’s trace',
    );
    assert.equal(continued.parentSpanId, '00f067aa0ba902b7');

    const malformed = await read('00-not-a-trace-01');
    assert.equal(malformed.status, 200);
    const before = new Set(receiver.spans.map((s) => s.spanId));
    assert.equal((await read('zz')).status, 200);
    const fresh = await spanWhere(
      (s) => !before.has(s.spanId) && s.name === 'GET /v1/media/:mediaId',
      'for the read with a malformed traceparent',
    );
    assert.equal(fresh.parentSpanId, '');
    assert.equal(receiver.refused, 0, 'every export was a valid OTLP/HTTP JSON request');
  });
});
