import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../../platform/config.ts';
import { installProblemHandlers } from '../../platform/http/problem.ts';
import { consoleRoutes } from './console.ts';

/**
 * The dev sign-in mints admin tokens for whoever asks, so it answers only a request addressed to the
 * loopback server itself, from a page of that origin: not a DNS-rebound `evil.example`, not another site.
 */
let app: FastifyInstance;
before(async () => {
  const config = { ...loadConfig({ JWT_SECRET: 'x'.repeat(32), API_PORT: '3300' }), consoleDevSignIn: true };
  app = Fastify();
  installProblemHandlers(app);
  await app.register(consoleRoutes, { config });
});
after(() => app?.close());

const mint = (headers: Record<string, string>) =>
  app.inject({
    method: 'POST',
    url: '/console/dev-token',
    headers: { 'content-type': 'application/json', ...headers },
    payload: { sub: 'mallory', admin: true },
  });

test('a loopback Host on the api port, with no Origin or its own, gets a token', async () => {
  for (const host of ['localhost:3300', '127.0.0.1:3300', '[::1]:3300', 'LOCALHOST:3300']) {
    const variants: Record<string, string>[] = [{ host }, { host, origin: `http://${host}` }];
    for (const headers of variants) {
      const reply = await mint(headers);
      assert.equal(reply.statusCode, 200, `${JSON.stringify(headers)}: ${reply.body}`);
      assert.ok(reply.json().token);
    }
  }
});

test('another Host, port or Origin is 403 forbidden, before the body is judged', async () => {
  const refused: Record<string, string>[] = [
    { host: 'evil.example', origin: 'http://evil.example' },
    { host: 'evil.example:3300' },
    { host: 'localhost:3300.evil.example' },
    { host: 'localhost:8080' },
    { host: 'localhost' },
    { host: '127.0.0.2:3300' },
    { host: 'localhost:3300', origin: 'http://evil.example' },
    { host: 'localhost:3300', origin: 'null' },
    { host: 'localhost:3300', origin: 'http://127.0.0.1:3300' },
  ];
  for (const headers of refused) {
    const reply = await mint(headers);
    assert.equal(reply.statusCode, 403, `${JSON.stringify(headers)}: ${reply.body}`);
    assert.equal(reply.json().code, 'forbidden');
  }
});
