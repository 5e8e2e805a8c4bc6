import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import Fastify from 'fastify';
import { stall } from '../../test/raw-http.ts';
import { installProblemHandlers } from './problem.ts';
import { serverOptions } from './server-options.ts';

test('a shutdown lets requests already on a keep-alive connection finish instead of answering a bare 503', async () => {
  const app = Fastify(serverOptions(5000));
  installProblemHandlers(app);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived: () => void = () => {};
  const first = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  app.get('/slow', async () => {
    arrived();
    await held;
    return { request: 'slow' };
  });
  app.get('/next', async () => ({ request: 'next' }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;

  const socket = connect(port, '127.0.0.1');
  let answer = '';
  socket.on('data', (chunk) => {
    answer += chunk;
  });
  const closed = new Promise((resolve) => socket.on('close', resolve));
  socket.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await first;
  const closing = app.close();
  // Pipelined behind the request in flight: it reaches the server only after shutdown began.
  socket.write('GET /next HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((resolve) => setTimeout(resolve, 100));
  release();
  await closing;
  await closed;
  assert.match(answer, /"request":"slow"/);
  assert.match(answer, /"request":"next"/);
  assert.doesNotMatch(answer, /Service Unavailable/);
  assert.doesNotMatch(answer, / 503 /);
});

test('a request that stops arriving is cut off soon after the request timeout, not at Node’s 30 s sweep', async () => {
  const app = Fastify(serverOptions(500));
  installProblemHandlers(app);
  app.get('/', async () => ({ ok: true }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  try {
    const port = (app.server.address() as { port: number }).port;
    const { answer, waitedMs } = await stall(port, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.ok(waitedMs < 5000, `cut off after ${waitedMs} ms with a 500 ms request timeout`);
  } finally {
    await app.close();
  }
});
