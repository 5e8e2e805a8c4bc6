import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSigner } from 'fast-jwt';
import type { UploadSession } from '../../contracts/uploads.ts';
import { signUrlToken } from '../../platform/auth/url-token.ts';
import { apiClient } from '../client.ts';
import { type Platform, startPlatform } from '../harness.ts';
import { trace } from '../photos.ts';
import {
  assertStillServes,
  type BadInput,
  corpus,
  expecting,
  makeJpeg,
  openSession,
  type RawRequest,
  send,
  uploadAs,
} from './fixtures.ts';

// Sessions live 4 seconds here so one can expire during the run; every other case is done in well under
// that. Nothing here needs a Kafka broker.
const sessionSeconds = 4;
let platform: Platform;
let secret: string;
let expiredSession: UploadSession;
/** The raw key of a processing photo of alice's: a private object the edge guards. */
let privateKey: string;

before(async () => {
  platform = await startPlatform({
    bus: 'embedded',
    env: { UPLOAD_SESSION_TTL_SECONDS: String(sessionSeconds) },
  });
  secret = platform.env.JWT_SECRET as string;
  const alice = apiClient(platform, platform.token('alice'));
  const { mediaId } = await uploadAs(alice, await makeJpeg(), 'image/jpeg');
  privateKey = (await trace(platform, mediaId)).media.objectKey;
  expiredSession = await openSession(alice, { size: 1000 });
  await sleep(sessionSeconds * 1000 + 1000);
});
after(() => platform?.stop());

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
// Every case carries a valid exp unless it is about exp, so each one is refused for the reason it names.
const hs = (claims: Record<string, unknown>, options: { key?: string; algorithm?: 'HS256' | 'HS512' } = {}) =>
  createSigner({ key: options.key ?? secret, algorithm: options.algorithm ?? 'HS256' })({
    exp: now() + 600,
    ...claims,
  });

/** Any request needing a user: alice's gallery. */
const gallery = (headers: Record<string, string>) =>
  send(platform.apiUrl, 'GET', '/v1/media?owner=me', { headers });
const bearer = (token: string) => gallery({ authorization: `Bearer ${token}` });
const unauthenticated = expecting(401, 'unauthenticated');
const expired = expecting(401, 'token_expired');

const jwts: BadInput[] = [
  unauthenticated('no Authorization header', () => gallery({})),
  unauthenticated('a Bearer scheme with no token', () => gallery({ authorization: 'Bearer' })),
  unauthenticated('a garbage bearer token', () => bearer('not-a-jwt')),
  unauthenticated('Basic credentials', () => gallery({ authorization: 'Basic YWxpY2U6cGFzcw==' })),
  unauthenticated('a JWT with alg none', () =>
    bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: now() + 600 })}.`),
  ),
  unauthenticated('the right secret with another algorithm (HS512)', () =>
    bearer(hs({ sub: 'alice' }, { algorithm: 'HS512' })),
  ),
  unauthenticated('a JWT signed with another key', () =>
    bearer(hs({ sub: 'alice' }, { key: 'another-secret-of-32-characters!' })),
  ),
  unauthenticated('a payload swapped under a valid signature', () => {
    const [header, , signature] = platform.token('bob').split('.');
    return bearer(`${header}.${b64({ sub: 'alice', roles: ['admin'], exp: now() + 600 })}.${signature}`);
  }),
  expired('an expired JWT', () => bearer(platform.token('alice', { ttlSeconds: -10 }))),
  unauthenticated('a JWT not valid before next hour', () => bearer(hs({ sub: 'alice', nbf: now() + 3600 }))),
  unauthenticated('a JWT without sub', () => bearer(hs({ roles: ['admin'] }))),
  unauthenticated('a JWT whose sub is a number', () => bearer(hs({ sub: 42 }))),
  unauthenticated('a JWT whose sub is empty', () => bearer(hs({ sub: '' }))),
  unauthenticated('a JWT whose sub is a list', () => bearer(hs({ sub: ['alice'] }))),
  expired('an expired admin token on an ops route', () =>
    send(platform.apiUrl, 'GET', '/v1/ops/outbox', {
      token: platform.token('ops', { admin: true, ttlSeconds: -10 }),
    }),
  ),
];

const expiredUpload = (suffix: string, json: unknown) => () =>
  send(platform.apiUrl, 'POST', `/v1/uploads/${expiredSession.uploadId}${suffix}`, {
    token: platform.token('alice'),
    json,
  });
const uploadExpired = expecting(410, 'upload_expired');
const sessions: BadInput[] = [
  uploadExpired('completing an expired upload session', expiredUpload('/complete', {})),
  uploadExpired(
    'fresh part URLs for an expired upload session',
    expiredUpload('/parts', { partNumbers: [1] }),
  ),
];

const edge =
  (options: RawRequest & { query?: string } = {}) =>
  () =>
    send(platform.edgeUrl, 'GET', `/m/${privateKey}${options.query ?? ''}`, options);
const urlToken = (grant: { key?: string; sub?: string; exp?: number }) =>
  `?token=${signUrlToken(secret, { key: privateKey, sub: 'alice', exp: now() + 600, ...grant })}`;

const forbidden = expecting(403, 'forbidden');
const edgeReads: BadInput[] = [
  unauthenticated('edge: a private original without credentials', edge()),
  forbidden("edge: another user's bearer on a private original", () =>
    edge({ token: platform.token('bob') })(),
  ),
  unauthenticated('edge: a garbage bearer', edge({ token: 'garbage' })),
  forbidden('edge: a forged URL token', edge({ query: `?token=${'x'.repeat(20)}.${'y'.repeat(43)}` })),
  forbidden('edge: a URL token for another object', () =>
    edge({ query: urlToken({ key: 'raw/someone/else' }) })(),
  ),
  expired('edge: an expired URL token', () => edge({ query: urlToken({ exp: now() - 60 }) })()),
];

describe('bearer tokens', () => corpus(jwts));
describe('expired upload sessions', () => corpus(sessions));
describe('reads through the edge', () => corpus(edgeReads));

test('after the corpus the API still serves, and nothing leaked across users', async () => {
  await assertStillServes(platform);
});
