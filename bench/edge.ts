import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { connectDatabase } from '../db/client.ts';
import { migrateDatabase } from '../db/migrate.ts';
import { freePort } from '../deploy/ports.ts';
import { startEmbeddedPostgres } from '../deploy/postgres/embedded-postgres.ts';
import { buildEdgeServer } from '../edge/server.ts';
import { createTokenVerifier, signDevToken } from '../platform/auth/jwt.ts';
import { signUrlToken } from '../platform/auth/url-token.ts';
import { loadConfig } from '../platform/config.ts';
import { createReadiness } from '../platform/health/readiness.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { printTable } from './lib.ts';

// The edge against a bare Fastify route answering 302, in one run: the edge and the bare server listen in this
// process; autocannon loads them from its own process, so the load generator never shares the server's event
// loop. Cases are interleaved round by round; each ratio is to the bare route of the same round.

const { values: options } = parseArgs({
  options: {
    duration: { type: 'string', default: '8' },
    connections: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '2' },
    /** Only these cases (comma-separated), e.g. for a CPU profile of one path. */
    only: { type: 'string' },
  },
});
const duration = Number(options.duration);
const connections = Number(options.connections);
const rounds = Number(options.rounds);
const autocannon = join(import.meta.dirname, '../node_modules/autocannon/autocannon.js');

const dir = await mkdtemp(join(tmpdir(), 'bench-edge-'));
const postgres = await startEmbeddedPostgres({
  dataDir: join(dir, 'postgres'),
  port: await freePort(),
  durable: false,
});
const database = connectDatabase(postgres.url);
const jwtSecret = randomBytes(32).toString('hex');
// Presigning is local arithmetic: no storage server is contacted by the redirects measured here.
const config = loadConfig({
  DATABASE_URL: postgres.url,
  S3_ENDPOINT: 'http://127.0.0.1:9000',
  S3_ACCESS_KEY_ID: 'bench',
  S3_SECRET_ACCESS_KEY: randomBytes(16).toString('hex'),
  S3_BUCKET: 'bench',
  JWT_SECRET: jwtSecret,
  CDN_BASE_URL: 'https://cdn.example.com',
  LOG_LEVEL: 'silent',
});
const servers: FastifyInstance[] = [];

try {
  await migrateDatabase(database.db);
  const keys = await seed();
  const edge = await buildEdgeServer({
    config,
    pool: database.pool,
    storage: createS3Storage(config.s3),
    verify: createTokenVerifier(config.auth),
    logger: pino({ level: 'silent' }),
    readiness: createReadiness(),
    registry: new Registry(),
  });
  const bare = Fastify();
  bare.get('/m/*', async (_request, reply) => reply.redirect('https://cdn.example.com/x', 302));
  servers.push(edge, bare);
  const edgeUrl = await edge.listen({ port: 0, host: '127.0.0.1' });
  const bareUrl = await bare.listen({ port: 0, host: '127.0.0.1' });

  const bearer = signDevToken(jwtSecret, { sub: 'alice', roles: [] }, 3600);
  const capability = signUrlToken(config.auth.urlSigningSecret as string, {
    key: keys.private,
    sub: 'alice',
    exp: Math.floor(Date.now() / 1000) + 3600,
  });
  const allCases: Case[] = [
    { name: 'bare', url: `${bareUrl}/m/${keys.public}`, status: 302 },
    { name: 'public', url: `${edgeUrl}/m/${keys.public}`, status: 302 },
    {
      name: 'bearer',
      url: `${edgeUrl}/m/${keys.private}`,
      headers: { authorization: `Bearer ${bearer}` },
      status: 302,
    },
    { name: 'token', url: `${edgeUrl}/m/${keys.private}?token=${capability}`, status: 302 },
    { name: 'unknown', url: `${edgeUrl}/m/${keys.unknown}`, status: 404 },
    { name: 'revoked', url: `${edgeUrl}/m/${keys.revoked}`, status: 410 },
  ];
  const wanted = options.only?.split(',');
  const cases = wanted ? allCases.filter((c) => wanted.includes(c.name)) : allCases;

  for (const c of cases) await load(c, 2);
  const results = new Map<string, Load[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) results.get(c.name)?.push(await load(c, duration));
  }

  console.log(
    `autocannon in its own process, ${connections} connections, ${duration} s per case, ${rounds} rounds ` +
      `interleaved; ${availableParallelism()} CPUs`,
  );
  const bareRounds = results.get('bare');
  // Other processes share the machine: a round they disturbed shows as an outlier, so the medians are the
  // figures to compare (CPU per request moves least with the machine's load).
  const rows = [
    ['case', 'req/s per round', 'p50 ms', 'p99 ms', 'server CPU µs/req', 'vs bare per round', 'median'],
  ];
  for (const c of cases) {
    const loads = results.get(c.name) ?? [];
    const ratios = bareRounds ? loads.map((l, i) => l.rps / (bareRounds[i]?.rps ?? Number.NaN)) : [];
    rows.push([
      describe(c.name),
      loads.map((l) => l.rps.toFixed(0)).join(' / '),
      loads.map((l) => l.p50.toFixed(1)).join(' / '),
      loads.map((l) => l.p99.toFixed(1)).join(' / '),
      loads.map((l) => l.cpuMicros.toFixed(0)).join(' / '),
      ratios.map((r) => `${r.toFixed(2)}x`).join(' / '),
      `${median(loads.map((l) => l.cpuMicros)).toFixed(0)} µs` +
        (ratios.length ? `, ${median(ratios).toFixed(2)}x` : ''),
    ]);
  }
  printTable(rows);
} finally {
  for (const server of servers) await server.close();
  await database.close();
  await postgres.stop();
  await rm(dir, { recursive: true, force: true });
}

interface Case {
  name: string;
  url: string;
  headers?: Record<string, string>;
  /** Every answer must carry it, or the figures measure something else (an error page). */
  status: number;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
  /** This process's CPU per answered request: the servers' cost, whatever else the machine is running. */
  cpuMicros: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

function describe(name: string): string {
  const labels: Record<string, string> = {
    bare: 'bare Fastify 302',
    public: 'public key → CDN',
    bearer: 'private key + Bearer',
    token: 'private key + ?token=',
    unknown: 'unknown key (404)',
    revoked: 'revoked key (410)',
  };
  return labels[name] ?? name;
}

async function load(c: Case, seconds: number): Promise<Load> {
  const headers = Object.entries(c.headers ?? {}).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  const cpuBefore = process.cpuUsage();
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [autocannon, '-j', '-c', String(connections), '-d', String(seconds), ...headers, c.url],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    statusCodeStats?: Record<string, { count: number }>;
    errors: number;
  };
  const cpu = process.cpuUsage(cpuBefore);
  const statuses = Object.keys(result.statusCodeStats ?? {});
  if (result.errors > 0 || statuses.length !== 1 || statuses[0] !== String(c.status)) {
    throw new Error(`${c.name}: expected only ${c.status}, got ${JSON.stringify(result.statusCodeStats)}`);
  }
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuMicros: (cpu.user + cpu.system) / result.requests.total,
  };
}

/** One media per case, as the API and the worker leave them: a ready variant, public or private, or deleted. */
async function seed() {
  const variantKey = async (visibility: 'public' | 'private', status: 'ready' | 'deleted') => {
    const id = randomUUID();
    const key = `derived/${id}/${randomUUID()}/medium.webp`;
    await database.pool.query(
      `insert into media (id, owner_id, kind, status, bucket, object_key, filename, content_type, size_bytes,
                          visibility)
       values ($1, 'alice', 'image', $2, 'bench', $3, 'a.jpg', 'image/jpeg', 1000, $4)`,
      [id, status, `raw/${id}/${randomUUID()}`, visibility],
    );
    await database.pool.query(
      `insert into media_variant (media_id, quality, format, object_key, bytes) values ($1, 'medium', 'webp', $2, 100)`,
      [id, key],
    );
    return key;
  };
  return {
    public: await variantKey('public', 'ready'),
    private: await variantKey('private', 'ready'),
    revoked: await variantKey('public', 'deleted'),
    unknown: `derived/${randomUUID()}/${randomUUID()}/medium.webp`,
  };
}
