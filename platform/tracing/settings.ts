import { type Static, Type } from '@sinclair/typebox';

type Env = Record<string, string | undefined>;

const samplers = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** The OpenTelemetry settings, from the standard `OTEL_*` variables. Absent: tracing is off. */
export const TracingSchema = Type.Object({
  /** `OTEL_SERVICE_NAME`; unset → `mediagate-<role>`. */
  serviceName: Type.Optional(Type.String({ minLength: 1 })),
  resourceAttributes: Type.Record(Type.String(), Type.String()),
  /** The full OTLP/HTTP traces URL (`…/v1/traces`). */
  endpoint: Type.String({ pattern: '^https?://' }),
  protocol: Type.Union([Type.Literal('http/protobuf'), Type.Literal('http/json')]),
  headers: Type.Record(Type.String(), Type.String()),
  timeoutMs: Type.Integer({ minimum: 1 }),
  sampler: Type.Union(samplers.map((s) => Type.Literal(s))),
  /** The ratio of the `traceidratio` samplers. */
  samplerRatio: Type.Number({ minimum: 0, maximum: 1 }),
  /** How long finished spans wait to be sent in one batch. */
  scheduleDelayMs: Type.Integer({ minimum: 1 }),
});
export type TracingSettings = Static<typeof TracingSchema>;

/**
 * Reads the OpenTelemetry environment as the specification names it. Tracing is on only when an OTLP
 * endpoint is given (the specification's localhost default would make every process pay for spans
 * nobody collects), and `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none` turn it off. Every
 * variable is read whatever the others say, so `configVariables()` finds them all.
 */
export function tracingSettings(env: Env): TracingSettings | undefined {
  const disabled = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || 'otlp';
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL;
  const headers = {
    ...pairs(env.OTEL_EXPORTER_OTLP_HEADERS),
    ...pairs(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
  };
  const timeout =
    number(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') ?? number(env, 'OTEL_EXPORTER_OTLP_TIMEOUT') ?? 10_000;
  const sampler = env.OTEL_TRACES_SAMPLER?.trim().toLowerCase() || 'parentbased_always_on';
  const samplerRatio = number(env, 'OTEL_TRACES_SAMPLER_ARG') ?? 1;
  const serviceName = env.OTEL_SERVICE_NAME;
  const resourceAttributes = pairs(env.OTEL_RESOURCE_ATTRIBUTES);
  const scheduleDelayMs = number(env, 'OTEL_BSP_SCHEDULE_DELAY') ?? 5000;

  const endpoint = tracesEndpoint || (baseEndpoint && `${baseEndpoint.replace(/\/+$/, '')}/v1/traces`);
  if (disabled || exporter === 'none' || !endpoint) return undefined;
  oneOf('OTEL_TRACES_EXPORTER', exporter, ['otlp', 'none']);
  const wire = oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', protocol?.trim() || 'http/protobuf', [
    'http/protobuf',
    'http/json',
  ]);
  return {
    serviceName: serviceName || resourceAttributes['service.name'] || undefined,
    resourceAttributes,
    endpoint,
    protocol: wire,
    headers,
    timeoutMs: timeout,
    sampler: oneOf('OTEL_TRACES_SAMPLER', sampler, samplers),
    samplerRatio,
    scheduleDelayMs,
  };
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new Error(`Invalid configuration: ${name} must be one of ${allowed.join(', ')}, got "${value}"`);
}

/** `key=value,key2=value2` with percent-encoded values (W3C Baggage style, as the specification says). */
function pairs(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of (raw ?? '').split(',')) {
    const at = item.indexOf('=');
    if (at <= 0) continue;
    const key = item.slice(0, at).trim();
    if (!key || key === '__proto__') continue;
    out[key] = safeDecode(item.slice(at + 1).trim());
  }
  return out;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function number(env: Env, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`Invalid configuration: ${name} must be a number, got "${raw}"`);
  return n;
}
