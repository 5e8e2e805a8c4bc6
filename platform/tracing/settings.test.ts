import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { configVariables, loadConfig } from '../config.ts';

// The standard OpenTelemetry environment, read like every other setting: an operator's collector settings
// turn tracing on, nothing else does, and a value the SDK would misread is refused at start-up by name.

const otel = (env: Record<string, string>) => loadConfig(env).otel;

describe('OTEL_* settings', () => {
  test('no endpoint, no tracing: the specification’s localhost default is not assumed', () => {
    assert.equal(otel({}), undefined);
    assert.equal(otel({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }), undefined);
  });

  test('the base endpoint gains /v1/traces; the traces endpoint is taken as it is and wins', () => {
    assert.equal(
      otel({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })?.endpoint,
      'http://collector:4318/v1/traces',
    );
    const both = otel({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://tempo.example/otlp/v1/traces',
    });
    assert.equal(both?.endpoint, 'https://tempo.example/otlp/v1/traces');
  });

  test('defaults follow the specification: http/protobuf, parent-based always-on, 5 s batches', () => {
    const settings = otel({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' });
    assert.deepEqual(
      { ...settings, headers: undefined, resourceAttributes: undefined },
      {
        serviceName: undefined,
        endpoint: 'http://c:4318/v1/traces',
        protocol: 'http/protobuf',
        timeoutMs: 10_000,
        sampler: 'parentbased_always_on',
        samplerRatio: 1,
        scheduleDelayMs: 5000,
        headers: undefined,
        resourceAttributes: undefined,
      },
    );
  });

  test('OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none switch a configured endpoint off', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    assert.equal(otel({ ...endpoint, OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(otel({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }), undefined);
    assert.ok(otel({ ...endpoint, OTEL_SDK_DISABLED: 'false' }));
  });

  test('headers and resource attributes are percent-decoded pairs; the traces headers win', () => {
    const settings = otel({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Basic%20YWxhZGRpbg%3D%3D,x-scope=a',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-scope=b,__proto__=polluted,broken',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-resource',
    });
    assert.deepEqual(settings?.headers, { authorization: 'Basic YWxhZGRpbg==', 'x-scope': 'b' });
    assert.equal(settings?.resourceAttributes['deployment.environment'], 'prod');
    assert.equal(settings?.serviceName, 'from-resource');
    const named = otel({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-resource',
      OTEL_SERVICE_NAME: 'mediagate-eu',
    });
    assert.equal(named?.serviceName, 'mediagate-eu');
  });

  test('values the exporter could not honour are refused, naming the variable', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    const refuses = (env: Record<string, string>, name: RegExp) =>
      assert.throws(() => loadConfig({ ...endpoint, ...env }), name);
    refuses(
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      /OTEL_EXPORTER_OTLP_PROTOCOL must be one of http\/protobuf, http\/json/,
    );
    refuses({ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, /OTEL_TRACES_SAMPLER must be one of/);
    refuses(
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'half' },
      /OTEL_TRACES_SAMPLER_ARG must be a number/,
    );
    refuses({ OTEL_TRACES_SAMPLER_ARG: '1.5' }, /samplerRatio/);
    refuses({ OTEL_TRACES_EXPORTER: 'zipkin' }, /OTEL_TRACES_EXPORTER must be one of otlp, none/);
    refuses({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318' }, /endpoint/);
  });

  test('every OTEL_* variable is one the deployment manifests may set', () => {
    const known = configVariables().filter((name) => name.startsWith('OTEL_'));
    for (const name of [
      'OTEL_SDK_DISABLED',
      'OTEL_SERVICE_NAME',
      'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_TRACES_EXPORTER',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
      'OTEL_EXPORTER_OTLP_TIMEOUT',
      'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
      'OTEL_TRACES_SAMPLER',
      'OTEL_TRACES_SAMPLER_ARG',
      'OTEL_BSP_SCHEDULE_DELAY',
    ]) {
      assert.ok(known.includes(name), name);
    }
  });
});
