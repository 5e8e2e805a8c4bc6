import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';
import { assertProblem, exchange, request, stall } from '../test/raw-http.ts';

/**
 * Requests a stranger can send with curl or a raw socket: whatever the framing, headers, encoding or
 * target, the api and the edge answer a 4xx problem+json with a stable code, never a 5xx and never
 * Fastify's or Node's own bodies. Real sockets where Node's HTTP parser is the one refusing.
 */
let api: InProcessApi;
let edge: FastifyInstance;
let ports: { api: number; edge: number };
before(async () => {
  api = await startInProcessApi({ env: { HTTP_REQUEST_TIMEOUT_MS: '2000' } });
  await api.app.listen({ port: 0, host: '127.0.0.1' });
  edge = await api.buildEdge();
  await edge.listen({ port: 0, host: '127.0.0.1' });
  const portOf = (app: FastifyInstance) => (app.server.address() as { port: number }).port;
  ports = { api: portOf(api.app), edge: portOf(edge) };
});
after(async () => {
  await api?.stop();
});

describe('requests Node refuses before any route (api and edge)', () => {
  const cases: [what: string, bytes: () => string | Buffer, status: number, code: string][] = [
    [
      'a 20 KB URL',
      () => request([`GET /v1/media?x=${'a'.repeat(20_000)} HTTP/1.1`, 'Host: x']),
      431,
      'headers_too_large',
    ],
    [
      'a 60 KB bearer token',
      () => request(['GET /v1/media HTTP/1.1', 'Host: x', `Authorization: Bearer ${'a'.repeat(60_000)}`]),
      431,
      'headers_too_large',
    ],
    [
      'Content-Length: -1',
      () => request(['POST /v1/uploads HTTP/1.1', 'Host: x', 'Content-Length: -1']),
      400,
      'malformed_request',
    ],
    [
      'Content-Length: 1e3',
      () => request(['POST /v1/uploads HTTP/1.1', 'Host: x', 'Content-Length: 1e3']),
      400,
      'malformed_request',
    ],
    [
      'Transfer-Encoding: chunked, gzip',
      () =>
        request(['POST /v1/uploads HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked, gzip'], '0\r\n\r\n'),
      400,
      'malformed_request',
    ],
    [
      'Transfer-Encoding and Content-Length together',
      () =>
        request(
          ['POST /v1/uploads HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 5'],
          '0\r\n\r\n',
        ),
      400,
      'malformed_request',
    ],
    [
      'NUL in Content-Type',
      () =>
        request(
          [
            'POST /v1/uploads HTTP/1.1',
            'Host: x',
            'Content-Type: application/json\u0000x',
            'Content-Length: 2',
          ],
          '{}',
        ),
      400,
      'malformed_request',
    ],
    ['a request line that is not HTTP', () => 'HELLO\r\n\r\n', 400, 'malformed_request'],
    [
      'no Host header',
      () => request(['GET /healthz HTTP/1.1', 'Connection: close']),
      400,
      'malformed_request',
    ],
    [
      'two Host headers',
      () => request(['GET /healthz HTTP/1.1', 'Host: a.example', 'Host: b.example', 'Connection: close']),
      400,
      'malformed_request',
    ],
    [
      'Expect: foo',
      () => request(['GET /healthz HTTP/1.1', 'Host: x', 'Expect: foo', 'Connection: close']),
      417,
      'expectation_failed',
    ],
    [
      'CONNECT',
      () => request(['CONNECT 127.0.0.1:22 HTTP/1.1', 'Host: 127.0.0.1:22']),
      405,
      'method_not_allowed',
    ],
  ];
  for (const [what, bytes, status, code] of cases) {
    test(`${what} → ${status} ${code}`, async () => {
      assertProblem(await exchange(ports.api, bytes()), status, code);
      assertProblem(await exchange(ports.edge, bytes()), status, code);
    });
  }

  test('HTTP/1.0 without Host and Expect: 100-continue are still served', async () => {
    for (const port of [ports.api, ports.edge]) {
      assert.equal((await exchange(port, request(['GET /healthz HTTP/1.0']))).status, 200);
      const continued = await exchange(
        port,
        request(['GET /healthz HTTP/1.1', 'Host: x', 'Expect: 100-continue', 'Connection: close']),
      );
      // The interim 100 Continue, then the answer itself.
      assert.equal(continued.status, 100);
      assert.match(continued.body, /^HTTP\/1\.1 200 OK/);
    }
  });

  test('a body that stops arriving is a problem+json 408 request_timeout', async () => {
    const bytes = request(
      [
        'POST /v1/uploads HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        `Authorization: Bearer ${api.token('slow')}`,
        'Content-Length: 100',
      ],
      '{"a"',
    );
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(ports.api, '127.0.0.1');
      let text = '';
      socket.on('data', (chunk) => {
        text += chunk;
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.write(bytes);
    });
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /"code":"request_timeout"/);
  });
});

describe('an answer given before the body has arrived', () => {
  /** Longer than this file's HTTP_REQUEST_TIMEOUT_MS, so a late second answer would show. */
  const talk = (port: number, bytes: string) => stall(port, bytes, 3000);
  // A second answer would follow the first one's body directly, not on a line of its own.
  const answers = (text: string) => text.match(/HTTP\/1\.1 \d{3}/g) ?? [];

  test('closes the connection: one answer, and the rest of the body is never read as a request', async () => {
    const cases: [port: () => number, head: string[], status: string][] = [
      [() => ports.api, ['POST /v1/uploads HTTP/1.1', 'Host: x'], '401'],
      [
        () => ports.api,
        ['POST /v1/ops/outbox/replay HTTP/1.1', 'Host: x', `Authorization: Bearer ${api.token('bob')}`],
        '403',
      ],
      [() => ports.edge, ['GET /m/raw/nothing/here HTTP/1.1', 'Host: x'], '404'],
    ];
    for (const [port, head, status] of cases) {
      const bytes = request([...head, 'Content-Type: application/json', 'Content-Length: 100'], '{"a"');
      const { answer: text, closedByServer } = await talk(port(), bytes);
      assert.deepEqual(answers(text), [`HTTP/1.1 ${status}`], `${head[0]}:\n${text}`);
      const [firstHead = ''] = text.split('\r\n\r\n', 1);
      assert.match(firstHead, /^connection: close$/im, head[0]);
      assert.ok(closedByServer, `${head[0]}: the connection was left open`);
    }
  });

  test('a body that did arrive keeps the connection for the next request', async () => {
    const body = '{"filename":"a.jpg","contentType":"image/jpeg","size":1000}';
    const refused = request(
      [
        'POST /v1/uploads HTTP/1.1',
        'Host: x',
        'Content-Type: application/json',
        `Content-Length: ${body.length}`,
      ],
      body,
    );
    const next = request(['GET /healthz HTTP/1.1', 'Host: x', 'Connection: close']);
    const { answer: text } = await talk(ports.api, refused + next);
    assert.deepEqual(answers(text), ['HTTP/1.1 401', 'HTTP/1.1 200'], text);
  });
});

describe('4xx errors raised by plugins keep their status', () => {
  for (const path of [
    '/docs/static/..',
    '/docs/static/%2e%2e/%2e%2e/etc/passwd',
    '/docs/static/..%5c..%5cetc/passwd',
  ]) {
    test(`GET ${path} is not a 500`, async () => {
      const answer = await exchange(
        ports.api,
        request([`GET ${path} HTTP/1.1`, 'Host: x', 'Connection: close']),
      );
      assert.ok(answer.status >= 400 && answer.status < 500, `${answer.head}\n${answer.body}`);
      assert.match(answer.head, /content-type: application\/problem\+json/i);
      assert.doesNotMatch(answer.body, /passwd|node_modules|\/work\//);
    });
  }

  test('a method no route takes is a problem, not a 500', async () => {
    const reply = await api.app.inject({ method: 'PROPFIND', url: '/v1/media' });
    assert.ok(reply.statusCode >= 400 && reply.statusCode < 500, reply.body);
    assert.equal(reply.headers['content-type'], 'application/problem+json; charset=utf-8');
  });
});

describe('bodies', () => {
  const create = (headers: Record<string, string>, payload: string | Buffer) =>
    api.call('alice', { method: 'POST', url: '/v1/uploads', headers, payload });
  const json = '{"filename":"a.jpg","contentType":"image/jpeg","size":1000}';

  test('a JSON body in any charset but UTF-8 is 415', async () => {
    for (const charset of ['utf-16', 'latin1', 'bogus', '"iso-8859-1"']) {
      const reply = await create({ 'content-type': `application/json; charset=${charset}` }, json);
      assert.equal(reply.statusCode, 415, `${charset}: ${reply.body}`);
      assert.equal(reply.json().code, 'unsupported_media_type');
    }
    for (const charset of ['utf-8', 'UTF-8', '"utf-8"']) {
      const reply = await create({ 'content-type': `application/json; charset=${charset}` }, json);
      assert.equal(reply.statusCode, 201, `${charset}: ${reply.body}`);
    }
  });

  test('a Content-Encoding other than identity is 415', async () => {
    for (const encoding of ['gzip', 'br', 'deflate', 'x-anything']) {
      const reply = await create({ 'content-type': 'application/json', 'content-encoding': encoding }, json);
      assert.equal(reply.statusCode, 415, `${encoding}: ${reply.body}`);
      assert.equal(reply.json().code, 'unsupported_media_type');
    }
  });

  test('a transfer coding other than chunked (gzip, chunked) is 415', async () => {
    const answer = await exchange(
      ports.api,
      request(
        [
          'POST /v1/uploads HTTP/1.1',
          'Host: x',
          `Authorization: Bearer ${api.token('alice')}`,
          'Content-Type: application/json',
          'Transfer-Encoding: gzip, chunked',
          'Connection: close',
        ],
        '0\r\n\r\n',
      ),
    );
    assertProblem(answer, 415, 'unsupported_media_type');
  });

  test('a text/plain body is 415, not a schema error', async () => {
    const reply = await create({ 'content-type': 'text/plain' }, json);
    assert.equal(reply.statusCode, 415, reply.body);
    assert.equal(reply.json().code, 'unsupported_media_type');
  });

  test('a JSON body that is not valid UTF-8 is 400 malformed_json, not a file name with U+FFFD', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"filename":"a'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('.jpg","contentType":"image/jpeg","size":1000}'),
    ]);
    const reply = await create({ 'content-type': 'application/json' }, bytes);
    assert.equal(reply.statusCode, 400, reply.body);
    assert.equal(reply.json().code, 'malformed_json');
  });

  test('a body naming __proto__ or constructor.prototype is refused saying which key, not "not valid JSON"', async () => {
    for (const key of ['"__proto__":{"admin":true}', '"constructor":{"prototype":{"admin":true}}']) {
      const reply = await create({ 'content-type': 'application/json' }, json.replace('{', `{${key},`));
      assert.equal(reply.statusCode, 400, reply.body);
      assert.equal(reply.json().code, 'malformed_json');
      assert.match(reply.json().detail, /key "__proto__".*refused/);
    }
    const broken = await create({ 'content-type': 'application/json' }, '{"filename":');
    assert.equal(broken.json().code, 'malformed_json');
    assert.doesNotMatch(broken.json().detail, /__proto__/);
  });

  test('an anonymous caller is refused before the body is judged', async () => {
    const reply = await api.app.inject({
      method: 'POST',
      url: '/v1/uploads',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: json,
    });
    assert.equal(reply.statusCode, 401);
  });

  test('routes whose body is optional take a request with no body at all', async () => {
    const session = await api.upload('bob', Buffer.alloc(100, 1), 'image/jpeg');
    const reply = await api.call('bob', { method: 'POST', url: `/v1/uploads/${session.uploadId}/complete` });
    // The bytes are no JPEG, so the gate rejects them: the empty request itself was taken.
    assert.equal(reply.statusCode, 422, reply.body);
    assert.equal(reply.json().code, 'type_mismatch');
    const admin = api.token('ops', { admin: true });
    const sweep = await api.app.inject({
      method: 'POST',
      url: '/v1/ops/storage/sweep',
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(sweep.statusCode, 200, sweep.body);
  });

  test('a route whose body is required names what is missing when there is none', async () => {
    const reply = await api.call('alice', { method: 'POST', url: '/v1/uploads' });
    assert.equal(reply.statusCode, 400, reply.body);
    assert.equal(reply.json().code, 'validation_failed');
    assert.match(reply.body, /filename/);
  });
});

describe('identifiers and credentials', () => {
  const id = randomUUID();
  test('ids that are not canonical UUIDs are refused at validation on every route', async () => {
    const admin = api.token('ops', { admin: true });
    for (const bad of [`urn:uuid:${id}`, `{${id}}`, id.replaceAll('-', ''), id.toUpperCase()]) {
      const encoded = encodeURIComponent(bad);
      const replies = [
        await api.call('alice', { method: 'GET', url: `/v1/media/${encoded}` }),
        await api.call('alice', { method: 'GET', url: `/v1/uploads/${encoded}` }),
        await api.app.inject({
          method: 'GET',
          url: `/v1/ops/outbox?mediaId=${encoded}`,
          headers: { authorization: `Bearer ${admin}` },
        }),
        await api.app.inject({
          method: 'POST',
          url: '/v1/ops/outbox/replay',
          headers: { authorization: `Bearer ${admin}` },
          payload: { mediaId: bad },
        }),
      ];
      for (const reply of replies) {
        assert.equal(reply.statusCode, 400, `${bad}: ${reply.body}`);
        assert.equal(reply.json().code, 'validation_failed');
      }
    }
  });

  test('two Authorization headers are 401, whichever comes first', async () => {
    const good = api.token('alice');
    for (const order of [
      [good, 'x'],
      ['x', good],
      [good, good],
    ]) {
      const answer = await exchange(
        ports.api,
        request([
          'GET /v1/media?owner=me HTTP/1.1',
          'Host: x',
          ...order.map((t) => `Authorization: Bearer ${t}`),
          'Connection: close',
        ]),
      );
      assertProblem(answer, 401, 'unauthenticated');
    }
  });
});

describe('dates are judged by the instant they denote', () => {
  const replay = (from: string, to: string) =>
    api.app.inject({
      method: 'POST',
      url: '/v1/ops/outbox/replay',
      headers: { authorization: `Bearer ${api.token('ops', { admin: true })}` },
      payload: { from, to },
    });
  for (const [what, from] of [
    ['a leap second', '2026-12-03T23:59:60Z'],
    ['9999 text, year-10000 instant', '9999-12-31T23:59:59-23:59'],
    ['1970 text, 1969 instant', '1970-01-01T00:30:00+01:00'],
    ['February 30', '2024-02-30T00:00:00Z'],
    ['hour 24', '2024-01-01T24:00:00Z'],
  ] as const) {
    test(`${what} (${from}) is 400 validation_failed`, async () => {
      const reply = await replay(from, '2024-01-01T00:00:00Z');
      assert.equal(reply.statusCode, 400, reply.body);
      assert.equal(reply.json().code, 'validation_failed');
    });
  }
  test('the edges of the range pass', async () => {
    const reply = await replay('1970-01-01T00:00:00Z', '9999-12-31T23:59:59.999+00:00');
    assert.ok([200, 404].includes(reply.statusCode), reply.body);
  });
});
