import { type Static, Type } from '@sinclair/typebox';

/** Logical topic names; the bus prefixes them with KAFKA_TOPIC_PREFIX (default `media.`). */
export const topics = {
  optimizeRequest: 'optimize.request',
  optimizeResult: 'optimize.result',
  virusDetected: 'virus.detected',
  /** The public lifecycle (`contracts/lifecycle.ts`), for apps and the webhook dispatcher. */
  mediaLifecycle: 'lifecycle',
} as const;
export type Topic = (typeof topics)[keyof typeof topics];

export const eventSchemaVersion = '1';

export const ProbeSummary = Type.Record(Type.String(), Type.Unknown());

export const OptimizeRequest = Type.Object({
  mediaId: Type.String(),
  bucket: Type.String(),
  objectKey: Type.String(),
  kind: Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('audio')]),
  contentType: Type.String(),
  canonicalUrl: Type.String(),
  probe: ProbeSummary,
});
export type OptimizeRequest = Static<typeof OptimizeRequest>;

export const ProcessedObject = Type.Object({
  quality: Type.String(),
  format: Type.String(),
  key: Type.String(),
  url: Type.String(),
  width: Type.Union([Type.Integer(), Type.Null()]),
  height: Type.Union([Type.Integer(), Type.Null()]),
  size: Type.Integer(),
});
export type ProcessedObject = Static<typeof ProcessedObject>;

/**
 * `final` (the default) settles the media. Long jobs (video, audio) also send `partial` results as each
 * output is stored, so the media is playable before the job ends, and `progress` updates per output.
 */
export const ResultStage = Type.Union([
  Type.Literal('progress'),
  Type.Literal('partial'),
  Type.Literal('final'),
]);

/** Where a record sits in Kafka; the offset is a decimal string (a 64-bit integer). */
export const KafkaPosition = Type.Object({
  topic: Type.String(),
  partition: Type.Integer({ minimum: 0 }),
  offset: Type.String({ pattern: '^[0-9]+$' }),
});
export type KafkaPosition = Static<typeof KafkaPosition>;

/**
 * How a worker ran one request, for operators (`GET /v1/ops/media/:id/trace`). Versioned and additive: a
 * reader takes the fields it knows, so newer workers stay readable by older APIs; results without it stay valid.
 */
export const ExecutionReport = Type.Object({
  version: Type.Integer({ minimum: 1 }),
  worker: Type.Object({ hostname: Type.String(), pid: Type.Integer() }),
  /** Where the worker read the request; absent on a bus without offsets (the embedded one). */
  request: Type.Optional(KafkaPosition),
  totalMs: Type.Integer({ minimum: 0 }),
  /** Steps overlap where they run in parallel (an image's rungs and uploads). */
  steps: Type.Array(
    Type.Object({
      name: Type.String(),
      startMs: Type.Integer({ minimum: 0 }),
      ms: Type.Integer({ minimum: 0 }),
      ok: Type.Boolean(),
    }),
    { maxItems: 200 },
  ),
});
export type ExecutionReport = Static<typeof ExecutionReport>;

export const OptimizeResult = Type.Object({
  mediaId: Type.String(),
  requestId: Type.String(),
  stage: Type.Optional(ResultStage),
  progress: Type.Optional(Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 }))),
  /** Outputs that failed on their own after retries; the others are published. */
  failedOutputs: Type.Optional(
    Type.Array(Type.Object({ quality: Type.String(), code: Type.String(), detail: Type.String() })),
  ),
  success: Type.Boolean(),
  processed: Type.Array(ProcessedObject),
  sha256: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
  placeholder: Type.Optional(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.String(), detail: Type.String() })),
  execution: Type.Optional(ExecutionReport),
});
export type OptimizeResult = Static<typeof OptimizeResult>;

export const VirusDetected = Type.Object({
  mediaId: Type.String(),
  virusName: Type.String(),
  actionTaken: Type.String(),
});
export type VirusDetected = Static<typeof VirusDetected>;
