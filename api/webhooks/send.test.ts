// One POST as a receiver answers it: the status line decides the attempt, whatever the body does after it.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { postWebhook } from './send.ts';

const open = new Set<ServerResponse>();
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    open.add(res);
    res.writeHead(req.url === '/fail' ? 503 : 200, { 'content-type': 'text/plain' });
    // A body that dribbles a few bytes and never ends.
    res.write('accepted, ');
    const drip = setInterval(() => res.write('.'), 200);
    res.on('close', () => clearInterval(drip));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  for (const res of open) res.destroy();
  server.close();
});

const options = { timeoutMs: 60_000, allowPrivateNetworks: true };

test('a 2xx whose body never ends is delivered: no timeout error, the excerpt is what came', async () => {
  const outcome = await postWebhook(`${base}/ok`, {}, '{}', options);
  assert.equal(outcome.statusCode, 200);
  assert.equal(outcome.error, null);
  assert.match(String(outcome.excerpt), /^accepted, \.*$/);
});

test('a non-2xx with a dribbling body is failed by its status, not by a timeout', async () => {
  const outcome = await postWebhook(`${base}/fail`, {}, '{}', options);
  assert.equal(outcome.statusCode, 503);
  assert.equal(outcome.error, null);
});

test('a URL on port 0 is refused before any connection', async () => {
  const outcome = await postWebhook('http://127.0.0.1:0/', {}, '{}', options);
  assert.equal(outcome.statusCode, null);
  assert.match(String(outcome.error), /Port 0/);
});
