import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { freePort } from '../../deploy/ports.ts';
import { type PostgresHandle, startEmbeddedPostgres } from '../../deploy/postgres/embedded-postgres.ts';
import { installProblemHandlers } from './problem.ts';

/**
 * The backstop behind the schemas: a value PostgreSQL refuses, whatever route it slipped through, is the
 * client's 400 `validation_failed`, not a 500. Real PostgreSQL errors, through drizzle as the api runs them.
 */
let dir: string;
let postgres: PostgresHandle;
let pool: pg.Pool;
let app: FastifyInstance;

const refusals: [
  sqlState: string,
  what: string,
  query: (value: string) => ReturnType<typeof sql>,
  value: string,
][] = [
  ['22021', 'NUL in text', (v) => sql`select ${v}::text`, 'a\u0000b'],
  ['22P05', '\\u0000 in jsonb', (v) => sql`select ${v}::jsonb`, '{"a":"\\u0000"}'],
  ['22P02', 'a word as an integer', (v) => sql`select ${v}::int`, 'lots'],
  ['22003', 'an integer past int4', (v) => sql`select ${v}::int4`, '2147483648'],
  ['22008', 'year 0000', (v) => sql`select ${v}::timestamptz`, '0000-01-01T00:00:00Z'],
  ['22007', 'a month 13', (v) => sql`select ${v}::timestamptz`, '2024-13-01'],
  [
    '22009',
    'a time zone offset past ±15:59',
    (v) => sql`select ${v}::timestamptz`,
    '9999-12-31T23:59:59-23:59',
  ],
  ['22015', 'an interval past its range', (v) => sql`select ${v}::interval`, '200000000 years'],
  ['22001', 'text longer than its column', (v) => sql`insert into short values (${v})`, 'abcd'],
  ['22025', 'a LIKE pattern ending in its escape', (v) => sql`select 'ab' like ${v}`, 'a\\'],
  ['2201B', 'a malformed regular expression', (v) => sql`select 'a' ~ ${v}`, '('],
  ['54000', 'a key too large for a btree index', (v) => sql`insert into keyed values (${v})`, ''],
];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mediagate-db-input-'));
  postgres = await startEmbeddedPostgres({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    durable: false,
  });
  pool = new pg.Pool({ connectionString: postgres.url });
  await pool.query('create table keyed (k text primary key)');
  await pool.query('create table short (v varchar(3))');
  const db = drizzle(pool);
  app = Fastify();
  installProblemHandlers(app);
  app.post<{ Params: { index: string }; Body: { value: string } }>('/refuse/:index', async (request) => {
    const [, , query] = refusals[Number(request.params.index)] ?? [];
    await db.execute(query?.(request.body.value) ?? sql`select 1`);
    return { ok: true };
  });
  app.get('/broken', async () => db.execute(sql`select * from no_such_table`));
});
after(async () => {
  await app?.close();
  await pool?.end();
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

for (const [index, [sqlState, what, , value]] of refusals.entries()) {
  test(`${what} (${sqlState}) answers 400 validation_failed`, async () => {
    // An incompressible key of ~8 KB: PostgreSQL's btree rows top out near 2.7 KB.
    const payload =
      sqlState === '54000'
        ? Array.from({ length: 8000 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20000))).join('')
        : value;
    const reply = await app.inject({ method: 'POST', url: `/refuse/${index}`, payload: { value: payload } });
    assert.equal(reply.statusCode, 400, reply.body);
    const problem = reply.json() as { code: string; detail: string };
    assert.equal(problem.code, 'validation_failed');
    assert.doesNotMatch(problem.detail, /select|insert|keyed/i, 'the detail names no SQL');
  });
}

test('an error of the query itself stays a 500', async () => {
  const reply = await app.inject({ method: 'GET', url: '/broken' });
  assert.equal(reply.statusCode, 500);
  assert.equal(reply.json().code, 'internal_error');
});
