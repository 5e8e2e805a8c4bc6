import { type Static, Type } from '@sinclair/typebox';

/** Logical topic names; the bus prefixes them with KAFKA_TOPIC_PREFIX (default `media.`). */
export const topics = {
  optimizeRequest: 'optimize.request',
  optimizeResult: 'optimize.result',
  virusDetected: 'virus.detected',
  /** The public lifecycle (`contracts/lifecycle.ts`), for apps and the webhook dispatcher. */
  mediaLifecycle: 'lifecycle',
  /** Chunk jobs of a long video (one chunk, one or more rungs), keyed per chunk so the fleet shares it. */
  videoChunk: 'video.chunk',
  /** A rung whose chunks are all done: concatenate them into its MP4. */
  videoAssemble: 'video.assemble',
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
  // A chunked video (VIDEO_CHUNK_SECONDS): its coordinator's plan, each chunk job's outcome, and each other
  // output (a still, a rung's assembled MP4) built or failed.
  Type.Literal('chunk-plan'),
  Type.Literal('chunk'),
  Type.Literal('chunked-output'),
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

const Quality = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z0-9-]+$' });
/** The planned rung a chunk job builds (worker/video/plan.ts PlannedRendition): its ffmpeg arguments included. */
export const ChunkRendition = Type.Object({
  quality: Quality,
  mode: Type.Union([Type.Literal('remux'), Type.Literal('transcode')]),
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  outputArgs: Type.Array(Type.String(), { maxItems: 200 }),
});
export type ChunkRendition = Static<typeof ChunkRendition>;
export const ChunkPlan = Type.Object({
  /** Each chunk's length in seconds, by index. */
  chunkSeconds: Type.Array(Type.Number({ minimum: 0 }), { minItems: 1, maxItems: 10_000 }),
  /** Smallest first: the first rung's chunks go out first and its playlist plays first. */
  rungs: Type.Array(
    Type.Object({
      rendition: ChunkRendition,
      /** Peak bits per second (video and audio), the master playlist's BANDWIDTH. */
      bandwidth: Type.Integer({ minimum: 1 }),
    }),
    { minItems: 1, maxItems: 16 },
  ),
  withAudio: Type.Boolean(),
  /** How many stills (poster, thumbnails) the coordinator reports besides the rungs. */
  stillCount: Type.Integer({ minimum: 0, maximum: 16 }),
});
export type ChunkPlan = Static<typeof ChunkPlan>;
export const ChunkOutcome = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  /** Stored MPEG-TS segments; `encoded: false` when a redelivered job found them already stored. */
  done: Type.Array(Type.Object({ quality: Quality, key: Type.String(), size: Type.Integer({ minimum: 0 }) })),
  failed: Type.Array(Type.Object({ quality: Quality, detail: Type.String() })),
  encoded: Type.Boolean(),
});
export type ChunkOutcome = Static<typeof ChunkOutcome>;
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
  /** Stage `chunk-plan`: how the video was cut and which rungs its chunks build. */
  chunkPlan: Type.Optional(ChunkPlan),
  /** Stage `chunk`: one chunk job's outcome, per rung. */
  chunk: Type.Optional(ChunkOutcome),
});
export type OptimizeResult = Static<typeof OptimizeResult>;

export const VirusDetected = Type.Object({
  mediaId: Type.String(),
  virusName: Type.String(),
  actionTaken: Type.String(),
});
export type VirusDetected = Static<typeof VirusDetected>;
export const ChunkSpan = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  startSeconds: Type.Number({ minimum: 0 }),
  endSeconds: Type.Number({ minimum: 0 }),
});
/** One chunk of a video, to be encoded into one or more rungs with one decode. */
export const VideoChunkJob = Type.Object({
  mediaId: Type.String(),
  /** The optimize request that planned it: its derivatives' keys live under it. */
  requestId: Type.String(),
  objectKey: Type.String(),
  span: ChunkSpan,
  chunkCount: Type.Integer({ minimum: 1 }),
  renditions: Type.Array(ChunkRendition, { minItems: 1, maxItems: 16 }),
  withAudio: Type.Boolean(),
  /** The source's display rotation as the coordinator probed it: a chunk job need not probe it again. */
  sourceRotation: Type.Optional(Type.Union([0, 90, 180, 270].map((r) => Type.Literal(r)))),
  /**
   * How far ahead of playback the job is: 0 for the lowest rung's first chunk (a viewer waits for it),
   * more for work that can yield the cores to it (the worker runs its ffmpeg under `nice`).
   */
  niceness: Type.Optional(Type.Integer({ minimum: 0, maximum: 19 })),
});
export type VideoChunkJob = Static<typeof VideoChunkJob>;
/** A rung whose chunks are all stored: one worker concatenates them and adds the audio, encoded once. */
export const VideoAssembleJob = Type.Object({
  mediaId: Type.String(),
  requestId: Type.String(),
  objectKey: Type.String(),
  rendition: ChunkRendition,
  chunkKeys: Type.Array(Type.String(), { minItems: 1, maxItems: 10_000 }),
  withAudio: Type.Boolean(),
});
export type VideoAssembleJob = Static<typeof VideoAssembleJob>;
