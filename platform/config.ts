import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { type Config, ConfigSchema } from './config-schema.ts';
import { devClientSettings } from './dev-env.ts';
import { bool, type Env, int, kafkaSasl, list, thresholds } from './env-values.ts';
import { DEFAULT_VIDEO_LADDER, parseVideoLadder } from './media/ladder.ts';
import { ffprobePathFor } from './media/run-ffmpeg.ts';
import { tracingSettings } from './tracing/settings.ts';

export type { Config } from './config-schema.ts';

/**
 * Builds the one configuration object from the environment — by default the process's. Everything else
 * receives it as an argument; nothing below `platform/config` reads `process.env`.
 */
export function loadConfig(env: Env = process.env): Config {
  const host = env.HOST ?? '127.0.0.1';
  const edgePort = int(env, 'EDGE_PORT', 3001);
  const dataDir = resolve(env.DATA_DIR ?? './.mediagate');
  const widths = list(env.IMAGE_WIDTHS ?? '360,720,1440').map(Number);
  const config = {
    host,
    apiPort: int(env, 'API_PORT', 3000),
    metricsPort: env.METRICS_PORT ? int(env, 'METRICS_PORT', 0) : undefined,
    edgePort,
    httpRequestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000),
    dataDir,
    cacheDir: resolve(env.MEDIAGATE_CACHE_DIR ?? `${homedir()}/.cache/mediagate`),
    consoleDevSignIn: false,
    logLevel: env.LOG_LEVEL ?? 'info',
    databaseUrl: env.DATABASE_URL,
    kafka: {
      brokers: list(env.KAFKA_BROKERS ?? ''),
      topicPrefix: env.KAFKA_TOPIC_PREFIX ?? 'media.',
      partitions: int(env, 'KAFKA_PARTITIONS', 6),
      replicationFactor: int(env, 'KAFKA_REPLICATION_FACTOR', 1),
      clientId: env.KAFKA_CLIENT_ID ?? 'mediagate',
      retryBaseDelayMs: int(env, 'BUS_RETRY_BASE_MS', 1000),
      sessionTimeoutMs: int(env, 'KAFKA_SESSION_TIMEOUT_MS', 6000),
      heartbeatIntervalMs: int(env, 'KAFKA_HEARTBEAT_INTERVAL_MS', 1000),
      rebalanceTimeoutMs: int(env, 'KAFKA_REBALANCE_TIMEOUT_MS', 3000),
      reconnectMaxDelayMs: int(env, 'KAFKA_RECONNECT_MAX_DELAY_MS', 1000),
      sasl: kafkaSasl(env.KAFKA_SASL_MECHANISM, env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD),
      ssl: bool(env.KAFKA_SSL, env.KAFKA_SSL_CA_FILE !== undefined),
      sslCaFile: env.KAFKA_SSL_CA_FILE,
    },
    s3: {
      endpoint: env.S3_ENDPOINT,
      publicEndpoint: env.S3_PUBLIC_ENDPOINT,
      region: env.S3_REGION ?? 'us-east-1',
      bucket: env.S3_BUCKET ?? 'mediagate',
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: bool(env.S3_FORCE_PATH_STYLE, env.S3_ENDPOINT !== undefined),
    },
    cdnBaseUrl: env.CDN_BASE_URL?.replace(/\/$/, ''),
    edgePublicUrl: (env.EDGE_PUBLIC_URL ?? `http://${host}:${edgePort}`).replace(/\/$/, ''),
    auth: {
      jwtSecret: env.JWT_SECRET,
      jwtPublicKey: env.JWT_PUBLIC_KEY,
      jwksUrl: env.JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      urlSigningSecret: env.URL_SIGNING_SECRET ?? env.JWT_SECRET,
      maxLifetimeSeconds: int(env, 'JWT_MAX_LIFETIME_SECONDS', 30 * 24 * 3600),
    },
    uploads: {
      partSizeBytes: int(env, 'UPLOAD_PART_SIZE_BYTES', 8 * 1024 * 1024),
      partUrlTtlSeconds: int(env, 'UPLOAD_PART_URL_TTL_SECONDS', 3600),
      sessionTtlSeconds: int(env, 'UPLOAD_SESSION_TTL_SECONDS', 24 * 3600),
      completionLeaseSeconds: int(env, 'UPLOAD_COMPLETION_LEASE_SECONDS', 120),
      completionWaitSeconds: int(env, 'UPLOAD_COMPLETION_WAIT_SECONDS', 10),
      maxBytes: {
        image: int(env, 'MAX_IMAGE_BYTES', 50 * 1024 ** 2),
        video: int(env, 'MAX_VIDEO_BYTES', 20 * 1024 ** 3),
        audio: int(env, 'MAX_AUDIO_BYTES', 2 * 1024 ** 3),
      },
      createPerMinute: int(env, 'UPLOAD_CREATE_PER_MINUTE', 120),
    },
    gate: {
      probeUrlTtlSeconds: int(env, 'GATE_PROBE_URL_TTL_SECONDS', 60),
      probeTimeoutMs: int(env, 'GATE_PROBE_TIMEOUT_MS', 15_000),
    },
    image: {
      widths: { low: widths[0] ?? 360, medium: widths[1] ?? 720, high: widths[2] ?? 1440 },
      thumbnailSize: int(env, 'IMAGE_THUMBNAIL_SIZE', 256),
      webpQuality: int(env, 'IMAGE_WEBP_QUALITY', 80),
      avifQuality: int(env, 'IMAGE_AVIF_QUALITY', 50),
      // 12,000×9,000 phone panoramas (108 MP) are photos, not bombs.
      maxInputPixels: int(env, 'IMAGE_MAX_PIXELS', 120_000_000),
      timeoutSeconds: int(env, 'IMAGE_TIMEOUT_SECONDS', 60),
    },
    stuckProcessingAfterSeconds: int(env, 'STUCK_PROCESSING_AFTER_SECONDS', 3600),
    liveStatus: {
      pollMs: int(env, 'SSE_POLL_MS', 500),
      heartbeatMs: int(env, 'SSE_HEARTBEAT_MS', 15_000),
      retryMs: int(env, 'SSE_RETRY_MS', 2000),
      maxStreams: int(env, 'SSE_MAX_STREAMS', 2000),
      maxStreamsPerUser: int(env, 'SSE_MAX_STREAMS_PER_USER', 10),
      tokenTtlSeconds: int(env, 'SSE_TOKEN_TTL_SECONDS', 3600),
    },
    worker: {
      concurrency: int(env, 'WORKER_CONCURRENCY', 2),
      tempDir: resolve(env.WORKER_TEMP_DIR ?? `${dataDir}/tmp`),
    },
    edge: {
      signedUrlTtlSeconds: int(env, 'EDGE_SIGNED_URL_TTL_SECONDS', 300),
      viewTokenTtlSeconds: int(env, 'EDGE_VIEW_TOKEN_TTL_SECONDS', 3600),
      cacheTtlMs: int(env, 'EDGE_CACHE_TTL_MS', 2000),
    },
    moderation: {
      vendor:
        env.MODERATION_VENDOR ??
        (env.SIGHTENGINE_API_USER ? 'sightengine' : env.MODERATION_URL ? 'http' : 'none'),
      url: env.MODERATION_URL,
      token: env.MODERATION_TOKEN,
      sightengine: {
        apiUser: env.SIGHTENGINE_API_USER,
        apiSecret: env.SIGHTENGINE_API_SECRET,
        baseUrl: env.SIGHTENGINE_BASE_URL,
      },
      thresholds: thresholds(env.MODERATION_THRESHOLDS ?? ''),
      timeoutMs: int(env, 'MODERATION_TIMEOUT_MS', 2500),
      webhookSecret: env.MODERATION_WEBHOOK_SECRET,
      async: {
        minSeconds: env.MODERATION_ASYNC_MIN_SECONDS ? Number(env.MODERATION_ASYNC_MIN_SECONDS) : undefined,
        callbackBaseUrl: env.MODERATION_CALLBACK_BASE_URL,
        urlTtlSeconds: int(env, 'MODERATION_ASYNC_URL_TTL_SECONDS', 21_600),
        repollAfterSeconds: int(env, 'MODERATION_ASYNC_REPOLL_AFTER_SECONDS', 900),
      },
    },
    clamav: { host: env.CLAMAV_HOST, port: int(env, 'CLAMAV_PORT', 3310) },
    webhooks: {
      allowPrivateNetworks: bool(env.WEBHOOK_ALLOW_PRIVATE_NETWORKS, false),
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 15_000),
      concurrency: int(env, 'WEBHOOK_CONCURRENCY', 16),
      endpointConcurrency: int(env, 'WEBHOOK_ENDPOINT_CONCURRENCY', 4),
      pollIntervalMs: int(env, 'WEBHOOK_POLL_INTERVAL_MS', 1000),
      retryBaseMs: int(env, 'WEBHOOK_RETRY_BASE_MS', 5000),
      disableAfterMs: int(env, 'WEBHOOK_DISABLE_AFTER_MS', 24 * 3600 * 1000),
    },
    video: {
      ladder: parseVideoLadder(env.VIDEO_LADDER ?? DEFAULT_VIDEO_LADDER),
      chunkSeconds: int(env, 'VIDEO_CHUNK_SECONDS', 6),
      // 8K (8192×4320), the largest H.264 level 6.2 and browsers decode: past it, every frame costs a
      // worker as much as a 35 MP photo, thousands of times over.
      maxPixels: int(env, 'VIDEO_MAX_PIXELS', 8192 * 4320),
    },
    ffmpegPath: env.FFMPEG_PATH ?? 'ffmpeg',
    ffprobePath: env.FFPROBE_PATH ?? ffprobePathFor({ ffmpegPath: env.FFMPEG_PATH }),
    otel: tracingSettings(env),
  };
  const errors = [...Value.Errors(ConfigSchema, config)];
  if (errors.length > 0) {
    const lines = errors.map((e) => `  ${e.path || '/'}: ${e.message} (got ${JSON.stringify(e.value)})`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return config as Config;
}

/**
 * Every environment variable the configuration reads, found by loading it from an environment that records
 * each name asked for (all unset, so every fallback is read too): one source of truth for the deployment
 * manifests' tests. It holds only while each variable is read whatever the others say.
 */
export function configVariables(): string[] {
  const read = new Set<string>();
  const recorder = new Proxy({} as Env, {
    get(_target, name) {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadConfig(recorder);
  return [...read].sort();
}

/**
 * For `token` and `upload` only: the process environment over the settings a running `mediagate dev` wrote
 * to DATA_DIR/dev.env (its JWT secret and API address), so they reach it from another shell unconfigured.
 */
export function loadDevClientConfig(env: Env = process.env): Config {
  return loadConfig({ ...devClientSettings(resolve(env.DATA_DIR ?? './.mediagate')), ...env });
}

/** Fails fast, at start-up, when a role lacks a setting it cannot run without. */
export function requireSetting<T>(value: T | undefined, name: string): T {
  if (value === undefined || value === '') throw new Error(`Missing configuration: ${name} is required`);
  return value;
}
