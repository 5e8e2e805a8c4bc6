import { type Static, Type } from '@sinclair/typebox';
import { VideoLadderSchema } from './media/ladder.ts';
import { TracingSchema } from './tracing/settings.ts';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
const Positive = Type.Integer({ minimum: 1 });

export const ConfigSchema = Type.Object({
  host: Type.String(),
  apiPort: Port,
  edgePort: Port,
  /** Prometheus `/metrics` (and the worker's probes); unset → the role's own default (platform/metrics/endpoint.ts). */
  metricsPort: Type.Optional(Port),
  /** A request (headers and body) must arrive within this, or the connection is cut (slow-loris). */
  httpRequestTimeoutMs: Positive,
  dataDir: Type.String(),
  cacheDir: Type.String(),
  /** POST /console/dev-token mints tokens for anyone who asks: only `mediagate dev` turns it on, never the environment. */
  consoleDevSignIn: Type.Boolean(),
  logLevel: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
  ),
  databaseUrl: Type.Optional(Type.String()),
  kafka: Type.Object({
    brokers: Type.Array(Type.String()),
    topicPrefix: Type.String(),
    partitions: Positive,
    replicationFactor: Positive,
    clientId: Type.String({ minLength: 1 }),
    /** First redelivery delay of a failed message (either bus); each further attempt doubles it. */
    retryBaseDelayMs: Positive,
    /** A consumer silent this long is out of its group and its partitions move: how long a crash stalls them. */
    sessionTimeoutMs: Positive,
    heartbeatIntervalMs: Positive,
    /** How long a rebalance waits for members to rejoin: bounds the wait for one that died without leaving. */
    rebalanceTimeoutMs: Positive,
    /** Longest pause between attempts to reach a broker that went away: how late clients notice its return. */
    reconnectMaxDelayMs: Positive,
    /** SASL for a secured cluster (managed Kafka); unset → no authentication. */
    sasl: Type.Optional(
      Type.Object({
        mechanism: Type.Union([
          Type.Literal('plain'),
          Type.Literal('scram-sha-256'),
          Type.Literal('scram-sha-512'),
        ]),
        username: Type.String({ minLength: 1 }),
        password: Type.String({ minLength: 1 }),
      }),
    ),
    /** TLS to the brokers; `sslCaFile` trusts a private CA besides the system ones. */
    ssl: Type.Optional(Type.Boolean()),
    sslCaFile: Type.Optional(Type.String({ minLength: 1 })),
  }),
  s3: Type.Object({
    endpoint: Type.Optional(Type.String()),
    /** What part URLs and edge redirects are signed for, when clients reach storage elsewhere than the roles. */
    publicEndpoint: Type.Optional(Type.String()),
    region: Type.String(),
    bucket: Type.String({ minLength: 3 }),
    accessKeyId: Type.Optional(Type.String()),
    secretAccessKey: Type.Optional(Type.String()),
    forcePathStyle: Type.Boolean(),
  }),
  cdnBaseUrl: Type.Optional(Type.String()),
  edgePublicUrl: Type.String(),
  auth: Type.Object({
    jwtSecret: Type.Optional(Type.String({ minLength: 16 })),
    jwtPublicKey: Type.Optional(Type.String()),
    jwksUrl: Type.Optional(Type.String()),
    issuer: Type.Optional(Type.String()),
    audience: Type.Optional(Type.String()),
    urlSigningSecret: Type.Optional(Type.String({ minLength: 16 })),
    /** Tokens whose `exp` lies further ahead than this are refused: no credential lives for ever. */
    maxLifetimeSeconds: Positive,
  }),
  uploads: Type.Object({
    partSizeBytes: Type.Integer({ minimum: 5 * 1024 * 1024 }),
    partUrlTtlSeconds: Type.Integer({ minimum: 900 }),
    sessionTtlSeconds: Positive,
    completionLeaseSeconds: Positive,
    completionWaitSeconds: Type.Integer({ minimum: 0 }),
    maxBytes: Type.Object({ image: Positive, video: Positive, audio: Positive }),
    createPerMinute: Positive,
  }),
  gate: Type.Object({
    probeUrlTtlSeconds: Type.Integer({ minimum: 1, maximum: 60 }),
    probeTimeoutMs: Positive,
  }),
  image: Type.Object({
    widths: Type.Object({ low: Positive, medium: Positive, high: Positive }),
    thumbnailSize: Positive,
    webpQuality: Type.Integer({ minimum: 1, maximum: 100 }),
    /** AVIF siblings of every WebP rung at this quality; 0 builds none. */
    avifQuality: Type.Integer({ minimum: 0, maximum: 100 }),
    maxInputPixels: Positive,
    timeoutSeconds: Positive,
  }),
  worker: Type.Object({ concurrency: Positive, tempDir: Type.String() }),
  /** A media `processing` for longer than this is listed as stuck in ops and counted in a metric. */
  stuckProcessingAfterSeconds: Positive,
  /** `GET /v1/media/:id/events` (Server-Sent Events): one database poller per process for every stream. */
  liveStatus: Type.Object({
    pollMs: Positive,
    heartbeatMs: Positive,
    retryMs: Positive,
    maxStreams: Positive,
    maxStreamsPerUser: Positive,
    tokenTtlSeconds: Positive,
  }),
  edge: Type.Object({
    signedUrlTtlSeconds: Positive,
    viewTokenTtlSeconds: Positive,
    cacheTtlMs: Type.Integer(),
  }),
  moderation: Type.Object({
    vendor: Type.Union([Type.Literal('none'), Type.Literal('http'), Type.Literal('sightengine')]),
    url: Type.Optional(Type.String()),
    token: Type.Optional(Type.String()),
    sightengine: Type.Object({
      apiUser: Type.Optional(Type.String()),
      apiSecret: Type.Optional(Type.String()),
      baseUrl: Type.Optional(Type.String()),
    }),
    thresholds: Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 })),
    timeoutMs: Positive,
    webhookSecret: Type.Optional(Type.String({ minLength: 16 })),
    /** Long videos judged by Sightengine's asynchronous video API; off while minSeconds is unset. */
    async: Type.Object({
      minSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
      callbackBaseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
      /** SigV4 presigned URLs live at most 7 days. */
      urlTtlSeconds: Type.Integer({ minimum: 60, maximum: 604_800 }),
      repollAfterSeconds: Positive,
    }),
  }),
  clamav: Type.Object({ host: Type.Optional(Type.String()), port: Port }),
  /** Outgoing webhooks (api/webhooks): the dispatcher's pace, retry schedule and SSRF rule. */
  webhooks: Type.Object({
    allowPrivateNetworks: Type.Boolean(),
    timeoutMs: Positive,
    concurrency: Positive,
    /** Attempts in flight to any one endpoint, so a hanging receiver holds only its own share. */
    endpointConcurrency: Positive,
    pollIntervalMs: Positive,
    /** The first retry's cap; the whole schedule (5 s … 10 h, ≥ 24 h in all) scales with it. */
    retryBaseMs: Positive,
    /** An endpoint whose every attempt failed for this long is disabled. */
    disableAfterMs: Positive,
  }),
  /**
   * Video renditions, smallest first (`VIDEO_LADDER`). `chunkSeconds` > 0 splits a video into chunk jobs
   * of about that length on the bus (`VIDEO_CHUNK_SECONDS`); 0 encodes it whole in one job.
   */
  video: Type.Object({
    ladder: VideoLadderSchema,
    chunkSeconds: Type.Integer({ minimum: 0, maximum: 60 }),
    /** `VIDEO_MAX_PIXELS`: the gate refuses a video whose frames are larger (`video_too_large`). */
    maxPixels: Type.Integer({ minimum: 1 }),
  }),
  ffmpegPath: Type.String(),
  ffprobePath: Type.String(),
  /** OpenTelemetry traces from the standard `OTEL_*` variables; absent → no tracing at all. */
  otel: Type.Optional(TracingSchema),
});
export type Config = Static<typeof ConfigSchema>;
