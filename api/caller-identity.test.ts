import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSigner } from 'fast-jwt';
import { maxSubjectLength, signDevToken } from '../platform/auth/jwt.ts';
import { type InProcessApi, startInProcessApi } from '../test/in-process.ts';
import { exchange, stall } from '../test/raw-http.ts';

/**
 * Who the caller is: exactly one well-formed bearer credential, a subject PostgreSQL stores as given, a
 * token that expires, and one rate-limit bucket per subject however the header is dressed up.
 */
const perMinute = 3;
let api: InProcessApi;
let secret: string;
before(async () => {
  api = await startInProcessApi({
    env: { UPLOAD_CREATE_PER_MINUTE: String(perMinute), HTTP_REQUEST_TIMEOUT_MS: '1000' },
  });
  secret = api.config.auth.jwtSecret as string;
});
after(() => api?.stop());

const gallery = (authorization: string | undefined) =>
  api.app.inject({
    method: 'GET',
    url: '/v1/media?owner=me',
    headers: authorization === undefined ? {} : { authorization },
  });
const tokenFor = (sub: string) => signDevToken(secret, { sub, roles: [] }, 600);

async function assertUnauthenticated(authorization: string | undefined, what: string, detail?: RegExp) {
  const reply = await gallery(authorization);
  assert.equal(reply.statusCode, 401, `${what}: ${reply.body}`);
  assert.equal(reply.json().code, 'unauthenticated', what);
  if (detail) assert.match(reply.json().detail, detail, what);
}

describe('the Authorization header', () => {
  test('anything but exactly "Bearer <token>" is 401', async () => {
    const token = api.token('alice');
    const malformed = {
      'extra words': `Bearer ${token} 0`,
      'a second token': `Bearer ${token} ${token}`,
      'two spaces': `Bearer  ${token}`,
      'a trailing space': `Bearer ${token} `,
      'another scheme': `Token ${token}`,
      'an empty token': 'Bearer ',
      'no token': 'Bearer',
      'an empty header': '',
    };
    for (const [what, header] of Object.entries(malformed)) await assertUnauthenticated(header, what);
  });

  test('the scheme is case-insensitive', async () => {
    assert.equal((await gallery(`bearer ${api.token('alice')}`)).statusCode, 200);
  });

  test('the create limit follows the verified subject, not the header text', async () => {
    const create = (authorization: string) =>
      api.app.inject({
        method: 'POST',
        url: '/v1/uploads',
        headers: { authorization },
        payload: { filename: 'a.jpg', contentType: 'image/jpeg', size: 1000 },
      });
    const token = api.token('limited');
    const statuses = [];
    // Distinct, valid tokens for the same user (different lifetimes), and suffixes that used to bypass.
    for (let i = 0; i < perMinute; i++) {
      const distinct = signDevToken(secret, { sub: 'limited', roles: [] }, 600 + i);
      statuses.push((await create(`Bearer ${distinct}`)).statusCode);
    }
    assert.deepEqual(statuses, Array(perMinute).fill(201));
    assert.equal(
      (await create(`Bearer ${signDevToken(secret, { sub: 'limited', roles: [] }, 900)}`)).statusCode,
      429,
    );
    for (let i = 0; i < 3; i++) assert.equal((await create(`Bearer ${token} ${i}`)).statusCode, 401);
    assert.equal((await create(`Bearer ${api.token('someone-else')}`)).statusCode, 201);
  });
});

describe('the subject (sub)', () => {
  const refused: Record<string, string> = {
    NUL: 'ali\u0000ce',
    'a lone high surrogate': 'alice\ud800',
    'a lone low surrogate': 'alice\udfff',
    'a newline': 'alice\nbob',
    'U+202E': 'alice\u202e',
    DEL: 'alice\u007f',
    [`${maxSubjectLength + 1} characters`]: 'a'.repeat(maxSubjectLength + 1),
    '6,000 characters': 'a'.repeat(6000),
  };
  for (const [what, sub] of Object.entries(refused)) {
    test(`a sub with ${what} is 401`, async () => {
      await assertUnauthenticated(`Bearer ${tokenFor(sub)}`, what, /sub/);
    });
  }

  test('subs that differ only in lone surrogates never become one owner', async () => {
    // Both would have been stored as "x\uFFFD" and shared one gallery.
    await assertUnauthenticated(`Bearer ${tokenFor('x\ud800')}`, 'first');
    await assertUnauthenticated(`Bearer ${tokenFor('x\ud801')}`, 'second');
    const { rows } = await api.database.pool.query(`select 1 from media where owner_id like 'x%'`);
    assert.equal(rows.length, 0);
  });

  test(`real ids pass: ${maxSubjectLength} characters, auth0|…, e-mail addresses, emoji`, async () => {
    for (const sub of [
      'a'.repeat(maxSubjectLength),
      'auth0|5f7c8ec7c33c6c004bbafe82',
      'zoë@example.org',
      '🦊',
    ]) {
      assert.equal((await gallery(`Bearer ${tokenFor(sub)}`)).statusCode, 200, sub);
    }
  });
});

test('a token without exp is refused', async () => {
  const forever = createSigner({ key: secret, algorithm: 'HS256' })({ sub: 'alice' });
  await assertUnauthenticated(`Bearer ${forever}`, 'no exp', /exp/);
});

describe('over a socket', () => {
  let port: number;
  before(async () => {
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const address = api.app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  test('an absolute-form target is authenticated before validation, like its path', async () => {
    const body = '{"bogus":true}';
    const answer = await exchange(
      port,
      `POST http://127.0.0.1:${port}/v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    assert.equal(answer.status, 401);
    assert.match(answer.body, /"code":"unauthenticated"/);
  });

  test('a body that never finishes arriving is cut off (HTTP_REQUEST_TIMEOUT_MS=1000)', async () => {
    const { answer } = await stall(
      port,
      'POST /v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
        `Authorization: Bearer ${api.token('slow')}\r\nContent-Length: 1000\r\n\r\n{"filename":`,
    );
    assert.match(answer, /^HTTP\/1\.1 408 /);
  });
});
