import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import { startEmbeddedS3 } from '../deploy/s3/embedded/server.ts';
import { applyUploadLifecycle } from '../deploy/s3/lifecycle.ts';
import type { Config } from '../platform/config.ts';
import { readDevEnv, writeDevEnv } from '../platform/dev-env.ts';
import type { Logger } from '../platform/logger.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { runMigrate } from './migrate.ts';
import { type Running, runApi, runEdge, runWorker } from './roles.ts';

const devPostgresPort = 54329;
const devS3Port = 3002;

/**
 * `npm start`: the whole platform in one process on embedded PostgreSQL, an in-process S3 server and the
 * embedded bus, with data under DATA_DIR. Secrets are generated once and kept in DATA_DIR/dev.env.
 */
export async function runDev(base: Config, logger: Logger): Promise<Running> {
  await mkdir(base.dataDir, { recursive: true });
  const previous = readDevEnv({ DATA_DIR: base.dataDir });
  const jwtSecret = base.auth.jwtSecret ?? previous.JWT_SECRET ?? randomBytes(32).toString('hex');
  const s3Key = previous.S3_ACCESS_KEY_ID ?? 'mediagate-dev';
  const s3Secret = previous.S3_SECRET_ACCESS_KEY ?? randomBytes(24).toString('hex');

  const postgres = base.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ dataDir: join(base.dataDir, 'postgres'), port: devPostgresPort });
  const s3 = base.s3.endpoint
    ? undefined
    : await startEmbeddedS3({
        dataDir: join(base.dataDir, 's3'),
        host: base.host,
        port: devS3Port,
        accessKeyId: s3Key,
        secretAccessKey: s3Secret,
        region: base.s3.region,
      });

  const config: Config = {
    ...base,
    databaseUrl: base.databaseUrl ?? postgres?.url,
    s3: s3
      ? {
          ...base.s3,
          endpoint: s3.endpoint,
          accessKeyId: s3Key,
          secretAccessKey: s3Secret,
          forcePathStyle: true,
        }
      : base.s3,
    auth: { ...base.auth, jwtSecret, urlSigningSecret: base.auth.urlSigningSecret ?? jwtSecret },
  };
  await writeDevEnv(config.dataDir, {
    JWT_SECRET: jwtSecret,
    DATABASE_URL: config.databaseUrl ?? '',
    S3_ENDPOINT: config.s3.endpoint ?? '',
    S3_ACCESS_KEY_ID: config.s3.accessKeyId ?? '',
    S3_SECRET_ACCESS_KEY: config.s3.secretAccessKey ?? '',
    S3_BUCKET: config.s3.bucket,
    API_PORT: String(config.apiPort),
    EDGE_PORT: String(config.edgePort),
  });
  await runMigrate(config);
  await createS3Storage(config.s3).ensureBucket();
  await applyUploadLifecycle(config.s3);

  const roles = [
    await runApi(config, logger.child({ component: 'api' })),
    await runWorker(config, logger.child({ component: 'worker' })),
    await runEdge(config, logger.child({ component: 'edge' })),
  ];
  return {
    url: roles[0]?.url,
    async stop() {
      for (const role of roles.reverse()) await role.stop();
      await s3?.stop();
      await postgres?.stop();
    },
  };
}

export function devBanner(config: Config): string {
  const api = `http://${config.host}:${config.apiPort}`;
  return [
    '',
    `mediagate is running (embedded PostgreSQL, S3 and bus; data in ${config.dataDir})`,
    `  API      ${api}        OpenAPI: ${api}/docs`,
    `  Edge     ${config.edgePublicUrl}/m/{objectKey}`,
    '',
    '  Token    npm run mediagate -- token --sub alice',
    '  Upload   npm run mediagate -- upload ./photo.jpg',
    '',
  ].join('\n');
}
