import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { assertProblem, exchange, request, stall } from '../../test/raw-http.ts';
import { createReadiness } from '../health/readiness.ts';
import { acquireRoleMetrics, type RoleMetrics } from './endpoint.ts';

/** The metrics endpoint is an HTTP server too: what Node would refuse bare is problem+json there as well. */
let metrics: RoleMetrics;
let port: number;
before(async () => {
  metrics = await acquireRoleMetrics(
    { host: '127.0.0.1', metricsPort: 0, httpRequestTimeoutMs: 500 },
    'worker',
    createReadiness(),
    pino({ level: 'silent' }),
  );
  port = Number(new URL(metrics.url).port);
});
after(() => metrics?.release());

const cases: [what: string, bytes: string, status: number, code: string][] = [
  ['no Host header', request(['GET /metrics HTTP/1.1', 'Connection: close']), 400, 'malformed_request'],
  [
    'two Host headers',
    request(['GET /metrics HTTP/1.1', 'Host: a', 'Host: b', 'Connection: close']),
    400,
    'malformed_request',
  ],
  [
    'Expect: foo',
    request(['GET /metrics HTTP/1.1', 'Host: x', 'Expect: foo', 'Connection: close']),
    417,
    'expectation_failed',
  ],
  ['CONNECT', request(['CONNECT 127.0.0.1:22 HTTP/1.1', 'Host: 127.0.0.1:22']), 405, 'method_not_allowed'],
  [
    'POST /metrics, a path served to GET only',
    request(['POST /metrics HTTP/1.1', 'Host: x', 'Content-Length: 0', 'Connection: close']),
    405,
    'method_not_allowed',
  ],
  [
    'Content-Length: -1',
    request(['GET /metrics HTTP/1.1', 'Host: x', 'Content-Length: -1']),
    400,
    'malformed_request',
  ],
];
for (const [what, bytes, status, code] of cases) {
  test(`${what} → ${status} ${code}`, async () => {
    assertProblem(await exchange(port, bytes), status, code);
  });
}

test('a wrong method names the one the endpoint serves in Allow', async () => {
  const answer = await exchange(port, request(['DELETE /readyz HTTP/1.1', 'Host: x', 'Connection: close']));
  assertProblem(answer, 405, 'method_not_allowed');
  assert.match(answer.head, /^allow: GET, HEAD$/im);
  const head = await exchange(port, request(['HEAD /healthz HTTP/1.1', 'Host: x', 'Connection: close']));
  assert.equal(head.status, 200, head.head);
});

test('a path it does not serve is a 404 not_found problem, as on the api and the edge', async () => {
  const answer = await exchange(port, request(['GET /nope HTTP/1.1', 'Host: x', 'Connection: close']));
  assertProblem(answer, 404, 'not_found');
});

test('a request that stops arriving is cut off after HTTP_REQUEST_TIMEOUT_MS, as on the api and the edge', async () => {
  const { answer, waitedMs } = await stall(port, 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ');
  assert.match(answer, /^HTTP\/1\.1 408 /);
  assert.ok(waitedMs < 5000, `cut off after ${waitedMs} ms with a 500 ms request timeout`);
});

test('an answer given before a sent body arrived ends the connection: one answer, nothing read after it', async () => {
  const bytes = request(['POST /metrics HTTP/1.1', 'Host: x', 'Content-Length: 100'], '{');
  const { answer, closedByServer } = await stall(port, bytes, 3000);
  assert.deepEqual(answer.match(/HTTP\/1\.1 \d{3}/g), ['HTTP/1.1 405']);
  assert.match(answer, /^connection: close\r$/im);
  assert.ok(closedByServer, 'the connection was left open');
});
