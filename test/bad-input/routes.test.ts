import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { UploadSession } from '../../contracts/uploads.ts';
import { apiClient } from '../client.ts';
import { type Platform, startPlatform } from '../harness.ts';
import {
  assertStillServes,
  type BadInput,
  corpus,
  expecting,
  openSession,
  type RawRequest,
  send,
} from './fixtures.ts';

// Requests that never reach the bus: the embedded one starts in half the time of a Kafka broker.
let platform: Platform;
let alice: string;
let bob: string;
let user: string;
let alicesUpload: UploadSession;

before(async () => {
  platform = await startPlatform({ bus: 'embedded' });
  alice = platform.token('alice');
  bob = platform.token('bob');
  user = platform.token('carol');
  alicesUpload = await openSession(apiClient(platform, alice), { size: 1000 });
});
after(() => platform?.stop());

const api = (method: string, path: string, options: RawRequest = {}) =>
  send(platform.apiUrl, method, path, options);
const create = (json: unknown) => api('POST', '/v1/uploads', { token: alice, json });
const createRaw = (raw: string, type = 'application/json') =>
  api('POST', '/v1/uploads', { token: alice, raw, headers: { 'content-type': type } });
const photo = { filename: 'IMG_0001.JPG', contentType: 'image/jpeg', size: 1000 };
const mib = 1024 * 1024;

const malformed = expecting(400, 'malformed_json');
const invalid = expecting(400, 'validation_failed');
const bodies: BadInput[] = [
  malformed('malformed JSON', () => createRaw('{"filename":')),
  malformed('a __proto__ key (prototype poisoning)', () =>
    createRaw(JSON.stringify(photo).replace('{', '{"__proto__":{"admin":true},')),
  ),
  malformed('an empty body declared as JSON', () => createRaw('')),
  expecting(415, 'unsupported_media_type')('a body that is not JSON (application/xml)', () =>
    createRaw('<upload/>', 'application/xml'),
  ),
  expecting(413, 'request_too_large')('a JSON body over 1 MiB', () =>
    create({ ...photo, filename: 'x'.repeat(mib + 1) }),
  ),
  invalid('a JSON array instead of an object', () => createRaw('[]')),
  invalid('no fields at all', () => create({})),
  invalid('missing size', () => create({ filename: 'a.jpg', contentType: 'image/jpeg' })),
  invalid('size as a word', () => create({ ...photo, size: 'lots' })),
  invalid('filename as an object', () => create({ ...photo, filename: { name: 'a.jpg' } })),
  invalid('an extra field (trying to set the owner)', () => create({ ...photo, ownerId: 'bob' })),
  invalid('negative size', () => create({ ...photo, size: -1 })),
  invalid('zero size', () => create({ ...photo, size: 0 })),
  invalid('fractional size', () => create({ ...photo, size: 1.5 })),
  invalid('a size of 10 PiB', () => create({ ...photo, size: 10 * 1024 ** 5 })),
  invalid('a filename over 255 characters', () => create({ ...photo, filename: `${'a'.repeat(256)}.jpg` })),
  invalid('a sha256 that is not hex', () => create({ ...photo, sha256: 'z'.repeat(64) })),
  invalid('size as a string of digits (bodies are not coerced)', () => create({ ...photo, size: '1000' })),
  invalid('size as a boolean', () => create({ ...photo, size: true })),
  invalid('a NUL byte in the filename', () => create({ ...photo, filename: 'a\u0000b.jpg' })),
  expecting(401, 'unauthenticated')('an anonymous caller with a bad body (auth comes first)', () =>
    api('POST', '/v1/uploads', { json: {} }),
  ),
];

const tooLarge = expecting(413, 'payload_too_large');
const unsupported = expecting(415, 'unsupported_media_type');
const declarations: BadInput[] = [
  tooLarge('an image over the 50 MiB cap', () => create({ ...photo, size: 50 * mib + 1 })),
  tooLarge('a video over the 20 GiB cap', () =>
    create({ filename: 'long.mp4', contentType: 'video/mp4', size: 20 * 1024 ** 3 + 1 }),
  ),
  ...[
    ['an unknown content type', 'application/octet-stream'],
    ['SVG', 'image/svg+xml'],
    ['HTML', 'text/html'],
    ['a Windows executable', 'application/x-msdownload'],
  ].map(([name, contentType]) =>
    unsupported(`${name} (${contentType})`, () => create({ ...photo, contentType })),
  ),
];

const parts = (partNumbers: unknown) => () =>
  api('POST', `/v1/uploads/${alicesUpload.uploadId}/parts`, { token: alice, json: { partNumbers } });
const complete = (json: unknown) => () =>
  api('POST', `/v1/uploads/${alicesUpload.uploadId}/complete`, { token: alice, json });

const partNumbers: BadInput[] = [
  invalid('part URLs for part 0', parts([0])),
  invalid('part URLs for part 10001', parts([10001])),
  invalid('part URLs past the plan (part 2 of 1)', parts([1, 2])),
  invalid('part URLs for no parts', parts([])),
  invalid('the same part number twice', parts([1, 1])),
  invalid('completing with an empty part list', complete({ parts: [] })),
  invalid('completing with part 0', complete({ parts: [{ partNumber: 0, etag: '"x"' }] })),
  invalid('completing with an unknown field', complete({ force: true })),
];

const nobody = randomUUID();
const notFound = expecting(404, 'not_found');
const wrongMethod = expecting(405, 'method_not_allowed');
const get = (path: string) => () => api('GET', path, { token: alice });
const paths: BadInput[] = [
  notFound('an unknown route', get('/v1/nope')),
  invalid('a path with broken percent-encoding', get('/v1/media/%E0%A4%A')),
  notFound('an unknown API version', () => api('POST', '/v2/uploads', { token: alice, json: photo })),
  wrongMethod('a wrong method (PUT /v1/uploads)', () =>
    api('PUT', '/v1/uploads', { token: alice, json: photo }),
  ),
  wrongMethod('a wrong method (DELETE /v1/media)', () => api('DELETE', '/v1/media', { token: alice })),
  invalid('a non-uuid upload id', get('/v1/uploads/123')),
  invalid('a non-uuid media id', get('/v1/media/not-a-uuid')),
  invalid('a non-uuid id on complete', () =>
    api('POST', "/v1/uploads/1'%20or%201=1/complete", { token: alice, json: {} }),
  ),
  invalid("a gallery query for someone else's media", get('/v1/media?owner=bob')),
  invalid('a gallery page of 0 items', get('/v1/media?owner=me&limit=0')),
  invalid('an empty media update', () => api('PATCH', `/v1/media/${nobody}`, { token: alice, json: {} })),
  invalid('an unknown visibility', () =>
    api('PATCH', `/v1/media/${nobody}`, { token: alice, json: { visibility: 'secret' } }),
  ),
  expecting(404, 'media_not_found')('a media id nobody has', get(`/v1/media/${nobody}`)),
];

const noMedia = expecting(404, 'media_not_found');
const noUpload = expecting(404, 'upload_not_found');
/** Bob at alice's upload or media; paths are read when the case runs, after alice's upload exists. */
const asBob = (method: string, path: () => string, json?: unknown) => () =>
  api(method, path(), { token: bob, json });
const media = () => `/v1/media/${alicesUpload.mediaId}`;
const upload =
  (suffix = '') =>
  () =>
    `/v1/uploads/${alicesUpload.uploadId}${suffix}`;
const otherUsers: BadInput[] = [
  noMedia("reading someone else's media", asBob('GET', media)),
  noMedia("publishing someone else's media", asBob('PATCH', media, { visibility: 'public' })),
  noMedia("deleting someone else's media", asBob('DELETE', media)),
  noUpload("completing someone else's upload", asBob('POST', upload('/complete'), {})),
  noUpload("refreshing someone else's upload", asBob('POST', upload('/parts'), { partNumbers: [1] })),
  noUpload("reading someone else's upload", asBob('GET', upload())),
  noUpload("aborting someone else's upload", asBob('DELETE', upload())),
];

const notAdmin = expecting(403, 'admin_required');
const asUser = (method: string, path: string, json?: unknown) => () =>
  api(method, path, { token: user, json });
const ops: BadInput[] = [
  notAdmin('GET /v1/ops/outbox without admin', asUser('GET', '/v1/ops/outbox')),
  notAdmin('GET /v1/ops/media/:id/trace without admin', asUser('GET', `/v1/ops/media/${nobody}/trace`)),
  notAdmin(
    'POST /v1/ops/outbox/replay without admin',
    asUser('POST', '/v1/ops/outbox/replay', { mediaId: nobody }),
  ),
  notAdmin('POST /v1/ops/storage/sweep without admin', asUser('POST', '/v1/ops/storage/sweep', {})),
  expecting(401, 'unauthenticated')('an ops route without a token', () => api('GET', '/v1/ops/outbox')),
];

const flood = expecting(429, 'rate_limited')('session creation past the rate limit', async () => {
  // Counted per credential, before validation: a flood of empty bodies costs the server nothing.
  const spammer = platform.token('spammer');
  for (let i = 0; i < 500; i++) {
    const reply = await api('POST', '/v1/uploads', { token: spammer, json: {} });
    if (reply.status !== 400) return reply;
  }
  throw new Error('no rate limit after 500 requests');
});

describe('bad request bodies', () => corpus(bodies));
describe('declared types and sizes the platform refuses', () => corpus(declarations));
describe('part numbers', () => corpus(partNumbers));
describe('routes, methods and ids', () => corpus(paths));
describe("other users' uploads and media", () => corpus(otherUsers));
describe('operator routes', () => corpus(ops));
describe('rate limits', () => corpus([flood]));

test('after the corpus the API still serves, and nothing leaked across users', async () => {
  await assertStillServes(platform);
});
