import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { type OtlpReceiver, startOtlpReceiver } from '../../test/otlp-receiver.ts';
import { createLogger } from '../logger.ts';
import { acquireTracing, tracingActive } from './sdk.ts';
import type { TracingSettings } from './settings.ts';
import { activeTraceparent, createMessageSpan, inSpan } from './spans.ts';
import { recordedSteps, recordSteps, step } from './steps.ts';

// The SDK as a role installs it, against a real OTLP/HTTP receiver: spans leave the process in the protocol
// asked for, nest by the async context, and log lines find their trace; unset, nothing is recorded at all.

let receiver: OtlpReceiver;
before(async () => {
  receiver = await startOtlpReceiver();
});
after(() => receiver.stop());

const quiet = pino({ level: 'silent' });
const settings = (protocol: TracingSettings['protocol']): TracingSettings => ({
  endpoint: `${receiver.endpoint}/v1/traces`,
  protocol,
  headers: {},
  resourceAttributes: {},
  timeoutMs: 5000,
  sampler: 'parentbased_always_on',
  samplerRatio: 1,
  scheduleDelayMs: 60_000,
});

describe('tracing SDK', () => {
  test('unset: nothing is installed, spans do not record, no traceparent is made up', async () => {
    const tracing = await acquireTracing(undefined, 'api', quiet);
    assert.equal(tracingActive(), false);
    await inSpan('work', {}, async (span) => {
      assert.equal(span.isRecording(), false);
      assert.equal(activeTraceparent(), undefined);
      assert.equal(createMessageSpan('optimize.request', 'id'), undefined);
    });
    await tracing.release();
  });

  test('http/json: nested spans reach the receiver with their parent links and the role as service', async () => {
    const tracing = await acquireTracing(settings('http/json'), 'worker', quiet);
    assert.equal(tracingActive(), true);
    let traceparent: string | undefined;
    await inSpan('job', {}, async () => {
      await recordSteps(async () => {
        await step('download', async () => {
          traceparent = activeTraceparent();
        });
        assert.deepEqual(
          recordedSteps().map((s) => [s.name, s.ok]),
          [['download', true]],
        );
      });
    });
    await tracing.release();
    assert.equal(tracingActive(), false);
    const job = receiver.spans.find((s) => s.name === 'job');
    const download = receiver.spans.find((s) => s.name === 'download');
    assert.ok(job && download);
    assert.equal(job.service, 'mediagate-worker');
    assert.equal(download.parentSpanId, job.spanId);
    assert.equal(traceparent, `00-${job.traceId}-${download.spanId}-01`);
  });

  test('log lines inside a span carry its trace_id and span_id; lines outside carry none', async () => {
    const configured = settings('http/json');
    const tracing = await acquireTracing(configured, 'api', quiet);
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const logger = createLogger({ logLevel: 'info', otel: configured }, 'api', sink);
    await inSpan('request', {}, async (span) => {
      logger.info('inside');
      assert.equal(lines.at(-1)?.trace_id, span.spanContext().traceId);
      assert.equal(lines.at(-1)?.span_id, span.spanContext().spanId);
    });
    logger.info('outside');
    assert.equal(lines.at(-1)?.trace_id, undefined);
    await tracing.release();
  });

  test('http/protobuf, the default protocol, posts protobuf to the traces endpoint', async () => {
    const before = receiver.protobufExports;
    const tracing = await acquireTracing(settings('http/protobuf'), 'api', quiet);
    await inSpan('protobuf span', {}, async () => {});
    await tracing.release();
    assert.equal(receiver.protobufExports, before + 1);
    assert.equal(receiver.refused, 0);
  });

  test('a failing step is timed as failed and its span marked as an error', async () => {
    const tracing = await acquireTracing(settings('http/json'), 'worker', quiet);
    await recordSteps(async () => {
      await assert.rejects(
        step('scan', async () => {
          throw new Error('clamd is down');
        }),
      );
      assert.deepEqual(
        recordedSteps().map((s) => [s.name, s.ok]),
        [['scan', false]],
      );
    });
    await tracing.release();
    const scan = receiver.spans.find((s) => s.name === 'scan');
    assert.equal(scan?.status, 2);
  });
});
