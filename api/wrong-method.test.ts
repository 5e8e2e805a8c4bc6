import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';

/**
 * A path that exists, asked with a method it does not serve, is `405 method_not_allowed` naming the methods
 * it does serve in `Allow`; only a path that does not exist at all is `404`. Checked for every path the
 * OpenAPI document lists, so a route added later is covered too.
 */
let api: InProcessApi;
before(async () => {
  api = await startInProcessApi();
});
after(() => api?.stop());

const candidates = ['PUT', 'POST', 'PATCH', 'DELETE'] as const;

function assertWrongMethod(
  reply: { statusCode: number; headers: Record<string, unknown>; json: () => { code: string } },
  served: string[],
  what: string,
) {
  assert.equal(reply.statusCode, 405, what);
  assert.equal(reply.json().code, 'method_not_allowed', what);
  const allow = String(reply.headers.allow ?? '').split(', ');
  for (const method of served) assert.ok(allow.includes(method), `${what}: Allow ${allow} lacks ${method}`);
}

test('every documented api path refuses a method it does not serve with 405 and Allow', async () => {
  const document = (api.app as unknown as { swagger(): { paths: Record<string, object> } }).swagger();
  const paths = Object.entries(document.paths);
  assert.ok(paths.length >= 10, `only ${paths.length} documented paths`);
  for (const [template, operations] of paths) {
    const path = template.replace(/\{[^}]+\}/g, randomUUID());
    const served = Object.keys(operations).map((m) => m.toUpperCase());
    const wrong = candidates.find((m) => !served.includes(m));
    if (!wrong) continue;
    const reply = await api.app.inject({
      method: wrong,
      url: path,
      headers: { authorization: `Bearer ${api.token('alice')}` },
    });
    assertWrongMethod(reply, served, `${wrong} ${template}`);
  }
});

test('an anonymous wrong method gets the same 405 (the path is public in the OpenAPI document anyway)', async () => {
  const reply = await api.app.inject({ method: 'DELETE', url: '/v1/uploads' });
  assertWrongMethod(reply, ['POST'], 'DELETE /v1/uploads');
  assert.equal(reply.headers.allow, 'POST');
});

test('a path no route serves is still 404 not_found, whatever the method', async () => {
  for (const method of ['GET', 'POST', 'DELETE'] as const) {
    const reply = await api.app.inject({ method, url: '/v1/nothing-here' });
    assert.equal(reply.statusCode, 404, method);
    assert.equal(reply.json().code, 'not_found');
    assert.equal(reply.headers.allow, undefined);
  }
});

test('the edge serves reads only: another method on /m/ is 405 with Allow: GET, HEAD', async () => {
  const edge = await api.buildEdge();
  for (const method of ['POST', 'PUT', 'DELETE'] as const) {
    const reply = await edge.inject({ method, url: `/m/derived/${randomUUID()}/w640.webp` });
    assertWrongMethod(reply, ['GET', 'HEAD'], `${method} on the edge`);
    assert.equal(reply.headers.allow, 'GET, HEAD');
  }
});
