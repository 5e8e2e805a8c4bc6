import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { maxReportedErrors } from '../platform/http/validators.ts';
import { signatureHeader, signWebhook } from '../platform/webhooks/signature.ts';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';

/**
 * Values PostgreSQL or the code cannot take (NUL, lone surrogates, numbers past a column, year 0000,
 * repeated parameters, huge error lists) must be refused at the boundary with a 400, on every route.
 */
const webhookSecret = 'w'.repeat(32);
let api: InProcessApi;
let admin: string;
before(async () => {
  api = await startInProcessApi({ env: { MODERATION_WEBHOOK_SECRET: webhookSecret } });
  admin = api.token('ops', { admin: true });
});
after(() => api?.stop());

function assertInvalid(reply: LightMyRequestResponse, what: string) {
  assert.equal(reply.statusCode, 400, `${what}: ${reply.body}`);
  assert.equal(reply.json().code, 'validation_failed', what);
}

const create = (payload: Record<string, unknown>) =>
  api.call('alice', {
    method: 'POST',
    url: '/v1/uploads',
    payload: { filename: 'a.jpg', contentType: 'image/jpeg', size: 1000, ...payload },
  });

describe('file names', () => {
  const refused = {
    NUL: 'a\u0000b.jpg',
    DEL: 'a\u007fb.jpg',
    'U+0085 (next line)': 'a\u0085b.jpg',
    'U+202E (right-to-left override)': 'photo\u202egpj.exe',
    'U+2066 (left-to-right isolate)': 'a\u2066b.jpg',
    'U+200E (left-to-right mark)': 'a\u200eb.jpg',
    'U+061C (Arabic letter mark)': 'a\u061cb.jpg',
    'U+2028 (line separator)': 'a\u2028b.jpg',
    'U+2029 (paragraph separator)': 'a\u2029b.jpg',
    'a lone high surrogate': 'a\ud800b.jpg',
    'a lone low surrogate': 'a\udc00.jpg',
    'a tab': 'a\tb.jpg',
  };
  for (const [what, filename] of Object.entries(refused)) {
    test(`${what} in a file name is refused`, async () => assertInvalid(await create({ filename }), what));
  }
  test('names people really use pass: accents, right-to-left scripts, emoji with joiners', async () => {
    for (const filename of ['café.jpg', 'صورة.jpg', '写真.jpg', '👩‍💻 at work.jpg', 'a\u00adb.jpg']) {
      const reply = await create({ filename });
      assert.equal(reply.statusCode, 201, `${filename}: ${reply.body}`);
    }
  });
});

describe('text that would reach PostgreSQL', () => {
  test('NUL in a part ETag is refused', async () => {
    const reply = await api.call('alice', {
      method: 'POST',
      url: `/v1/uploads/${randomUUID()}/complete`,
      payload: { parts: [{ partNumber: 1, etag: '"a\u0000"' }] },
    });
    assertInvalid(reply, 'etag');
  });

  const verdict = {
    eventId: 'evt-1',
    vendor: 'acme',
    mediaId: randomUUID(),
    verdict: 'rejected',
    categories: [{ name: 'gore', score: 0.9 }],
    vendorJobId: 'job-1',
  };
  const signed = (body: unknown) => {
    const raw = JSON.stringify(body);
    const timestamp = Math.floor(Date.now() / 1000);
    return api.app.inject({
      method: 'POST',
      url: '/v1/webhooks/moderation',
      headers: {
        'content-type': 'application/json',
        [signatureHeader]: signWebhook(webhookSecret, timestamp, raw),
      },
      payload: raw,
    });
  };
  for (const [field, value] of [
    ['eventId', 'e\u0000'],
    ['vendor', 'v\u0000'],
    ['vendorJobId', 'j\u0000'],
    ['vendorJobId', 'j\ud800'],
  ] as const) {
    test(`a signed webhook with ${JSON.stringify(value)} in ${field} is refused`, async () => {
      assertInvalid(await signed({ ...verdict, [field]: value }), field);
    });
  }
  test('a signed webhook with NUL in a category name is refused', async () => {
    assertInvalid(await signed({ ...verdict, categories: [{ name: 'g\u0000', score: 1 }] }), 'category');
  });

  test('ops selectors with NUL are refused', async () => {
    const ops = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
      api.app.inject({
        method,
        url,
        payload: payload as object,
        headers: { authorization: `Bearer ${admin}` },
      });
    assertInvalid(await ops('GET', '/v1/ops/dlq?topic=optimize.request&group=w%00'), 'dlq group');
    assertInvalid(
      await ops('POST', '/v1/ops/dlq/redrive', { topic: 'optimize.request', ids: ['1\u0000'] }),
      'redrive ids',
    );
    const range = { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' };
    assertInvalid(await ops('POST', '/v1/ops/outbox/replay', { ...range, topic: 't\u0000' }), 'topic');
  });
});

describe('numbers and dates past their column', () => {
  test('a gallery cursor is a canonical media id: a slot number or an upper-case id is refused', async () => {
    for (const cursor of ['2147483648', '2147483647', '0', randomUUID().toUpperCase()]) {
      assertInvalid(
        await api.call('alice', { method: 'GET', url: `/v1/media?owner=me&after=${cursor}` }),
        cursor,
      );
    }
  });

  test('a number in a query string is decimal digits: hex, exponents, signs and blanks are refused', async () => {
    const list = (query: string) => api.call('alice', { method: 'GET', url: `/v1/media?owner=me&${query}` });
    for (const limit of ['0x10', '1e1', '%2B5', '%205', '5%20', '0b11', 'Infinity', '']) {
      assertInvalid(await list(`limit=${limit}`), `limit=${limit}`);
    }
    for (const query of ['limit=16', 'limit=016']) {
      const reply = await list(query);
      assert.equal(reply.statusCode, 200, `${query}: ${reply.body}`);
    }
    const dlq = await api.app.inject({
      method: 'GET',
      url: '/v1/ops/dlq?topic=optimize.request&limit=1e2',
      headers: { authorization: `Bearer ${admin}` },
    });
    assertInvalid(dlq, 'an ops limit of 1e2');
  });

  test('a sweep grace period past any interval PostgreSQL can add is refused', async () => {
    const reply = await api.app.inject({
      method: 'POST',
      url: '/v1/ops/storage/sweep',
      headers: { authorization: `Bearer ${admin}` },
      payload: { graceSeconds: 10 ** 15 },
    });
    assertInvalid(reply, 'graceSeconds');
  });

  test('a replay from year 0000 (or 1969) is refused; a real range is looked up', async () => {
    const replay = (from: string) =>
      api.app.inject({
        method: 'POST',
        url: '/v1/ops/outbox/replay',
        headers: { authorization: `Bearer ${admin}` },
        payload: { from, to: '2024-01-01T00:00:00Z' },
      });
    assertInvalid(await replay('0000-01-01T00:00:00Z'), 'year 0000');
    assertInvalid(await replay('1969-12-31T23:59:59Z'), 'before 1970');
    const real = await replay('2023-01-01T00:00:00Z');
    assert.equal(real.statusCode, 404, real.body);
    assert.equal(real.json().code, 'not_found');
  });
});

describe('every route of the OpenAPI document', () => {
  interface Parameter {
    in: string;
    name: string;
    required?: boolean;
    schema: Record<string, unknown>;
  }
  const exampleOf = (schema: Record<string, unknown>): string => {
    if (schema.const !== undefined) return String(schema.const);
    const choices = (schema.anyOf ?? schema.enum) as Record<string, unknown>[] | string[] | undefined;
    if (choices?.[0] !== undefined) {
      const first = choices[0];
      return typeof first === 'object' ? exampleOf(first) : String(first);
    }
    if (schema.type === 'integer') return String(schema.minimum ?? 1);
    if (schema.format === 'uuid') return randomUUID();
    return 'x';
  };

  test('a query parameter given twice is a 400, never a 5xx', async () => {
    const document = api.app.swagger() as {
      paths: Record<string, Record<string, { parameters?: Parameter[] }>>;
    };
    let checked = 0;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const parameters = operation.parameters ?? [];
        const query = parameters.filter((p) => p.in === 'query');
        if (query.length === 0) continue;
        const url = path.replace(/\{[^}]+\}/g, () => randomUUID());
        for (const repeated of query) {
          const pairs = query.map((p) => `${p.name}=${encodeURIComponent(exampleOf(p.schema))}`);
          pairs.push(`${repeated.name}=${encodeURIComponent(exampleOf(repeated.schema))}`);
          const reply = await api.app.inject({
            method: method.toUpperCase() as 'GET',
            url: `${url}?${pairs.join('&')}`,
            headers: { authorization: `Bearer ${admin}` },
          });
          assertInvalid(reply, `${method.toUpperCase()} ${path} with ${repeated.name} twice`);
          checked++;
        }
      }
    }
    assert.ok(checked >= 7, `checked ${checked} parameters`);
  });

  test('every integer a client sends has a maximum, and every string a length bound or a format', () => {
    const document = api.app.swagger() as {
      paths: Record<
        string,
        Record<
          string,
          { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: unknown }> } }
        >
      >;
    };
    const unbounded: string[] = [];
    const walk = (schema: unknown, at: string) => {
      if (!schema || typeof schema !== 'object') return;
      const s = schema as Record<string, unknown>;
      if ((s.type === 'integer' || s.type === 'number') && s.maximum === undefined) unbounded.push(at);
      const fixed = s.format === 'uuid' || s.const !== undefined || s.enum !== undefined;
      if (s.type === 'string' && s.maxLength === undefined && !fixed) unbounded.push(at);
      for (const [key, child] of Object.entries(s)) {
        if (Array.isArray(child)) {
          for (const [i, c] of child.entries()) walk(c, `${at}/${key}/${i}`);
        } else if (typeof child === 'object') walk(child, `${at}/${key}`);
      }
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        for (const p of operation.parameters ?? []) walk(p.schema, `${method} ${path} ${p.in} ${p.name}`);
        for (const content of Object.values(operation.requestBody?.content ?? {}))
          walk(content.schema, `${method} ${path} body`);
      }
    }
    assert.deepEqual(unbounded, []);
  });
});

test(`a 1 MB body of unknown keys answers at most ${maxReportedErrors} errors and a count`, async () => {
  const body: Record<string, number> = { size: 1000 };
  for (let i = 0, length = 0; length < 1000 * 1000; i++) {
    body[`unknown${i}`] = 0;
    length += `"unknown${i}":0,`.length;
  }
  const reply = await api.call('alice', { method: 'POST', url: '/v1/uploads', payload: body });
  assertInvalid(reply, 'unknown keys');
  const { errors } = reply.json() as { errors: { message: string }[] };
  assert.equal(errors.length, maxReportedErrors + 1);
  assert.match(errors.at(-1)?.message ?? '', /^and \d+ more errors$/);
  assert.ok(reply.body.length < 10_000, `the answer is ${reply.body.length} bytes`);
});
