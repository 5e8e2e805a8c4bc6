import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import type { MediaView } from '../../contracts/media.ts';
import type { Problem } from '../../contracts/problem.ts';
import { makeHugePng, makeJpegWithGps } from '../../worker/image/test-images.ts';
import { makeHugeVideo } from '../../worker/video/test-fixtures.ts';
import { apiClient, type Reply } from '../client.ts';
import { type Platform, startPlatform } from '../harness.ts';
import { readThroughEdge, stored, trace } from '../photos.ts';
import {
  assertStillServes,
  type BadInput,
  corpus,
  expecting,
  htmlPage,
  makeJpeg,
  openSession,
  polyglot,
  putChunks,
  renamedExecutable,
  svgImage,
  uploadAs,
  zipBomb,
} from './fixtures.ts';

// Files are what the worker sees too, so this suite runs the whole platform on a real Kafka broker.
let platform: Platform;
let client: ReturnType<typeof apiClient>;
before(async () => {
  platform = await startPlatform();
  client = apiClient(platform, platform.token('mallory'));
});
after(() => platform?.stop());

const mib = 1024 * 1024;
// Which session each reply answered, for the checks that follow it.
type Ids = { mediaId: string; uploadId: string };
const sessionOf = new WeakMap<Reply<Problem>, Ids>();

/** Declares `bytes` (built lazily) as `contentType`, uploads them and completes. */
const declared = (contentType: string, bytes: () => Buffer | Promise<Buffer>) => async () => {
  const { mediaId, uploadId, reply } = await uploadAs(client, await bytes(), contentType);
  sessionOf.set(reply, { mediaId, uploadId });
  return reply;
};

/** A gate rejection: the media is `rejected` with the same code and storage no longer holds the bytes. */
async function rejectedAndDeleted(reply: Reply<Problem>): Promise<void> {
  const session = sessionOf.get(reply) as Ids;
  const media = await client.get<MediaView>(`/v1/media/${session.mediaId}`);
  assert.equal(media.body.status, 'rejected');
  assert.equal(media.body.failure?.code, reply.body.code);
  assert.equal(await stored(platform, (await trace(platform, session.mediaId)).media.objectKey), false);
}

/** A gate rejection of `code`: the media is then `rejected` with it and its bytes are gone. */
const gate = (code: string) => (name: string, send: BadInput['send']) =>
  expecting(422, code)(name, send, rejectedAndDeleted);
const mismatch = gate('type_mismatch');
const unreadable = gate('media_unreadable');
const png = () =>
  sharp({ create: { width: 32, height: 32, channels: 3, background: '#36c' } })
    .png()
    .toBuffer();
const ftypThenGarbage = () =>
  Buffer.concat([Buffer.from('\0\0\0\x18ftypisom\0\0\x02\0isomiso2', 'latin1'), Buffer.alloc(4096, 7)]);

const contents: BadInput[] = [
  mismatch('a renamed executable (MZ) declared image/jpeg', declared('image/jpeg', renamedExecutable)),
  mismatch('a renamed executable declared video/mp4', declared('video/mp4', renamedExecutable)),
  mismatch(
    'a zip bomb declared image/png',
    declared('image/png', () => zipBomb()),
  ),
  mismatch(
    'an HTML page declared image/jpeg',
    declared('image/jpeg', () => htmlPage),
  ),
  mismatch(
    'an SVG with a script declared image/png',
    declared('image/png', () => svgImage),
  ),
  mismatch('a PNG declared image/jpeg', declared('image/jpeg', png)),
  mismatch(
    'an H.264 video declared audio/mp4',
    declared('audio/mp4', () => makeHugeVideo(320, 240)),
  ),
  mismatch(
    'a JPEG declared video/mp4',
    declared('video/mp4', () => makeJpeg()),
  ),
  unreadable('a polyglot: JPEG header, then HTML and a ZIP', declared('image/jpeg', polyglot)),
  unreadable('an MP4 ftyp box followed by garbage', declared('video/mp4', ftypThenGarbage)),
  gate('image_too_large')(
    'a pixel bomb: a 30000×30000 PNG of under 1 MB',
    declared('image/png', () => makeHugePng(30000, 30000)),
  ),
  gate('video_too_large')(
    'a 9000×9000 H.264 video of 250 kB: every frame would cost a worker an 81 MP decode',
    declared('video/mp4', () => makeHugeVideo(9000, 9000)),
  ),
];

/** Declares `size` bytes and uploads `chunks` as parts; completion then sends `claimed` (or nothing). */
const multipart =
  (
    size: number,
    chunks: (Buffer | undefined)[],
    claim?: (sent: { partNumber: number; etag: string }[]) => unknown,
    putStatus = 200,
  ) =>
  async () => {
    const session = await openSession(client, { size });
    const sent = await putChunks(session, chunks, putStatus);
    const reply = (await client.post(`/v1/uploads/${session.uploadId}/complete`, {
      parts: claim ? claim(sent) : undefined,
    })) as Reply<Problem>;
    sessionOf.set(reply, session);
    return reply;
  };

/** An upload refused before the gate: nothing is decided yet, the client may fix it and complete again. */
async function stillOpen(reply: Reply<Problem>): Promise<void> {
  const session = sessionOf.get(reply) as Ids;
  const media = await client.get<MediaView>(`/v1/media/${session.mediaId}`);
  assert.equal(media.body.status, 'awaiting_upload');
  const state = await client.get<{ state: string }>(`/v1/uploads/${session.uploadId}`);
  assert.equal(state.body.state, 'open');
}

const bytes = (n: number, fill = 0xab) => Buffer.alloc(n, fill);
const twoParts = 6 * mib;
/** Refused before the gate with a 400 of `code`. */
const early = (code: string) => (name: string, send: BadInput['send']) =>
  expecting(400, code)(name, send, stillOpen);
const etag = (hex: string) => `"${hex.repeat(32)}"`;
const protocol: BadInput[] = [
  // Part URLs are signed for their part's length: storage refuses (403) a PUT of any other size, so
  // nothing is stored and completing finds the part missing.
  early('parts_incomplete')(
    'fewer bytes uploaded than declared',
    multipart(2000, [bytes(1000)], undefined, 403),
  ),
  early('parts_incomplete')(
    'more bytes uploaded than declared',
    multipart(1000, [bytes(2000)], undefined, 403),
  ),
  early('parts_incomplete')('nothing uploaded at all', multipart(1000, [])),
  early('parts_incomplete')('a missing part', multipart(twoParts, [undefined, bytes(mib)])),
  early('part_etag_mismatch')(
    'a wrong ETag',
    multipart(1000, [bytes(1000)], () => [{ partNumber: 1, etag: etag('0') }]),
  ),
  early('part_etag_mismatch')(
    'a part number twice, with different ETags',
    multipart(1000, [bytes(1000)], ([sent]) => [sent, { partNumber: 1, etag: etag('f') }]),
  ),
  early('parts_incomplete')(
    'an ETag claimed for a part never uploaded',
    multipart(twoParts, [bytes(5 * mib)], (sent) => [...sent, { partNumber: 2, etag: etag('a') }]),
  ),
  early('parts_incomplete')(
    'a first part under 5 MiB (two parts declared)',
    multipart(twoParts, [bytes(1024), bytes(1024)], undefined, 403),
  ),
];

describe('content the gate refuses', () => corpus(contents));
describe('uploads that break the multipart protocol', () => corpus(protocol));

describe('files that pass the gate', () => {
  test('a truncated JPEG passes the header probe, then fails visibly in the worker', async () => {
    const whole = await makeJpegWithGps(800, 600, { lat: 1, lon: 2 });
    const { mediaId, reply } = await uploadAs(client, whole.subarray(0, whole.length >> 1), 'image/jpeg');
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const media = await client.waitForMedia(mediaId, (m) => m.status !== 'processing');
    assert.equal(media.status, 'failed');
    assert.equal(media.failure?.code, 'image_undecodable');
  });

  test('a real JPEG carrying a ZIP after its end is served only as re-encoded WebP', async () => {
    const { mediaId, reply } = await uploadAs(
      client,
      Buffer.concat([await makeJpeg(), zipBomb(mib)]),
      'image/jpeg',
    );
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
    const media = await client.waitForMedia(mediaId, (m) => m.status !== 'processing');
    assert.equal(media.status, 'ready', JSON.stringify(media.failure));
    assert.ok(media.variants.length > 0);
    for (const variant of media.variants) {
      const read = await readThroughEdge(variant.url);
      assert.equal(read.status, 302);
      assert.equal((await sharp(read.bytes).metadata()).format, 'webp');
      assert.equal(read.bytes?.includes(Buffer.from('PK\x03\x04', 'latin1')), false, 'the ZIP is gone');
    }
  });

  test('completing a rejected upload again answers the same rejection', async () => {
    const { uploadId, reply } = await uploadAs(client, renamedExecutable(), 'image/jpeg');
    assert.equal(reply.status, 422);
    const again = await client.post<Problem>(`/v1/uploads/${uploadId}/complete`, {});
    assert.equal(again.status, 422);
    assert.equal(again.body.code, 'type_mismatch');
  });
});

test('after the corpus the API still serves, and nothing leaked across users', async () => {
  await assertStillServes(platform);
});
