import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { ApiContext } from '../api/context.ts';
import { buildApiServer } from '../api/server.ts';
import { connectDatabase, type DatabaseHandle } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { postgresVerdictCache } from '../db/queries/verdict-cache.ts';
import { freePort } from '../deploy/ports.ts';
import { startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import { startEmbeddedS3 } from '../deploy/s3/embedded/server.ts';
import { buildEdgeServer } from '../edge/server.ts';
import { createTokenVerifier, signDevToken } from '../platform/auth/jwt.ts';
import type { Bus } from '../platform/bus/bus.ts';
import { createEmbeddedBus } from '../platform/bus/embedded-bus.ts';
import { type Config, loadConfig } from '../platform/config.ts';
import { createReadiness } from '../platform/health/readiness.ts';
import { moderationMetrics } from '../platform/metrics/moderation.ts';
import { uploadMetrics } from '../platform/metrics/uploads.ts';
import { createModerator } from '../platform/moderation/create-moderator.ts';
import type { Moderator } from '../platform/moderation/moderation.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';

/**
 * The middle tier: the API's domain on real parts — embedded PostgreSQL, the in-process S3 server and the
 * embedded bus — in the test's own process, driven through `inject()`. Cheap enough for races and edge
 * cases that would be slow to reach end to end.
 */
export interface InProcessApi {
  app: FastifyInstance;
  ctx: ApiContext;
  config: Config;
  database: DatabaseHandle;
  /** The PostgreSQL superuser-equivalent URL, for tests that terminate backends or inspect rows. */
  databaseUrl: string;
  s3Endpoint: string;
  /** The embedded bus the API's outbox would be relayed to, for tests that run a consumer on it. */
  bus: Bus;
  token(sub: string, options?: { admin?: boolean; ttlSeconds?: number }): string;
  /** `inject()` with a bearer token for `sub` (or none when sub is undefined). */
  call(sub: string | undefined, options: InjectOptions): Promise<LightMyRequestResponse>;
  /** The edge on the same database, storage and token secret; closed by `stop()`. */
  buildEdge(): Promise<FastifyInstance>;
  /** Stores `bytes` as a complete upload: create, PUT every part through its presigned URL. */
  upload(sub: string, bytes: Buffer, contentType: string, filename?: string): Promise<UploadedSession>;
  /** `upload`, then `complete`, which must be taken (202): the media is `processing`, its request queued. */
  uploadCompleted(
    sub: string,
    bytes: Buffer,
    contentType: string,
    filename?: string,
  ): Promise<UploadedSession>;
  stop(): Promise<void>;
}

export interface UploadedSession {
  mediaId: string;
  uploadId: string;
  parts: { partNumber: number; etag: string }[];
}

export interface InProcessOptions {
  env?: Record<string, string>;
  moderator?: Moderator;
}

export async function startInProcessApi(options: InProcessOptions = {}): Promise<InProcessApi> {
  const dir = await mkdtemp(join(tmpdir(), 'mediagate-inproc-'));
  await chmod(dir, 0o755);
  const stops: (() => Promise<void>)[] = [async () => rm(dir, { recursive: true, force: true })];
  const stop = async () => {
    for (const fn of stops.splice(0).reverse()) await fn().catch(() => {});
  };
  try {
    const pg = await startEmbeddedPostgres({
      dataDir: join(dir, 'postgres'),
      port: await freePort(),
      durable: false,
    });
    stops.push(pg.stop);
    const s3Key = 'inproc';
    const s3Secret = randomBytes(16).toString('hex');
    const s3 = await startEmbeddedS3({
      dataDir: join(dir, 's3'),
      accessKeyId: s3Key,
      secretAccessKey: s3Secret,
    });
    stops.push(s3.stop);
    const jwtSecret = randomBytes(32).toString('hex');
    const config = loadConfig({
      DATABASE_URL: pg.url,
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: s3Key,
      S3_SECRET_ACCESS_KEY: s3Secret,
      S3_BUCKET: 'inproc',
      JWT_SECRET: jwtSecret,
      DATA_DIR: join(dir, 'data'),
      UPLOAD_PART_SIZE_BYTES: String(5 * 1024 * 1024),
      EDGE_CACHE_TTL_MS: '0',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ...options.env,
    });
    const logger = pino({ level: config.logLevel });
    const database = connectDatabase(pg.url);
    stops.push(database.close);
    await migrateDatabase(database.db);
    const storage = createS3Storage(config.s3);
    await storage.ensureBucket();
    const bus = await createEmbeddedBus({
      connectionString: pg.url,
      topicPrefix: config.kafka.topicPrefix,
      retryBaseDelayMs: config.kafka.retryBaseDelayMs,
      logger,
    });
    stops.push(bus.close);
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const ctx: ApiContext = {
      config,
      db: database.db,
      storage,
      logger,
      moderator:
        options.moderator ??
        createModerator(
          config.moderation,
          postgresVerdictCache(database.db),
          logger,
          moderationMetrics(registry),
        ),
      deadLetters: bus,
      metrics: uploadMetrics(registry),
    };
    const app = await buildApiServer(ctx, createTokenVerifier(config.auth), registry);
    stops.push(() => app.close());
    await app.ready();

    const token: InProcessApi['token'] = (sub, o = {}) =>
      signDevToken(jwtSecret, { sub, roles: o.admin ? ['admin'] : [] }, o.ttlSeconds ?? 3600);
    const call: InProcessApi['call'] = (sub, request) =>
      app.inject({
        ...request,
        headers: {
          ...(sub === undefined ? {} : { authorization: `Bearer ${token(sub)}` }),
          ...request.headers,
        },
      });
    const api: InProcessApi = {
      app,
      ctx,
      config,
      database,
      databaseUrl: pg.url,
      s3Endpoint: s3.endpoint,
      bus,
      token,
      call,
      async upload(sub, bytes, contentType, filename = 'file') {
        const created = await call(sub, {
          method: 'POST',
          url: '/v1/uploads',
          payload: { filename, contentType, size: bytes.length },
        });
        if (created.statusCode !== 201)
          throw new Error(`create answered ${created.statusCode}: ${created.body}`);
        const session = created.json() as {
          mediaId: string;
          uploadId: string;
          partSize: number;
          parts: { partNumber: number; url: string }[];
        };
        const parts = [];
        for (const part of session.parts) {
          const start = (part.partNumber - 1) * session.partSize;
          const put = await fetch(part.url, {
            method: 'PUT',
            body: bytes.subarray(start, start + session.partSize),
          });
          if (!put.ok) throw new Error(`PUT part ${part.partNumber} answered ${put.status}`);
          parts.push({ partNumber: part.partNumber, etag: put.headers.get('etag') ?? '' });
        }
        return { mediaId: session.mediaId, uploadId: session.uploadId, parts };
      },
      async uploadCompleted(sub, bytes, contentType, filename) {
        const session = await api.upload(sub, bytes, contentType, filename);
        const done = await call(sub, {
          method: 'POST',
          url: `/v1/uploads/${session.uploadId}/complete`,
          payload: { parts: session.parts },
        });
        if (done.statusCode !== 202) throw new Error(`complete answered ${done.statusCode}: ${done.body}`);
        return session;
      },
      async buildEdge() {
        const edge = await buildEdgeServer({
          config,
          pool: database.pool,
          storage,
          verify: createTokenVerifier(config.auth),
          logger,
          readiness: createReadiness(),
          registry: new Registry(),
        });
        stops.push(() => edge.close());
        return edge;
      },
      stop,
    };
    return api;
  } catch (error) {
    await stop();
    throw error;
  }
}
