import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { crc32, deflateRawSync } from 'node:zlib';
import sharp from 'sharp';
import type { MediaView } from '../../contracts/media.ts';
import type { Problem } from '../../contracts/problem.ts';
import type { UploadSession } from '../../contracts/uploads.ts';
import { apiClient, putPart, type Reply, uploadBytes } from '../client.ts';
import type { Platform } from '../harness.ts';

/**
 * The bad-input corpus: each case is one request a careless or hostile client could send, and the answer
 * it must get — a real HTTP status, `application/problem+json`, and the stable `code` clients branch on.
 */
export interface BadInput {
  name: string;
  status: number;
  code: string;
  /** Does its own setup (a session, an upload), then sends the bad request. */
  send(): Promise<Reply<Problem>>;
  /** What else the user would notice afterwards: the media's state, what storage still holds. */
  afterwards?(reply: Reply<Problem>): Promise<void>;
}

/** Builds cases that share an answer: `const invalid = expecting(400, 'validation_failed')`. */
export function expecting(status: number, code: string) {
  return (name: string, send: BadInput['send'], afterwards?: BadInput['afterwards']): BadInput => ({
    name,
    status,
    code,
    send,
    afterwards,
  });
}

export function corpus(cases: BadInput[]): void {
  for (const c of cases) {
    test(`${c.name} → ${c.status} ${c.code}`, async () => {
      const reply = await c.send();
      assert.equal(reply.status, c.status, JSON.stringify(reply.body));
      assert.match(reply.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(reply.body.code, c.code, JSON.stringify(reply.body));
      assert.equal(reply.body.status, c.status, 'the problem body repeats the HTTP status');
      await c.afterwards?.(reply);
    });
  }
}

export interface RawRequest {
  token?: string;
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Sent as is; give the content type in `headers`. */
  raw?: string;
}

/** One request over the wire, with full control of headers and body; the answer's body parsed if JSON. */
export async function send(
  baseUrl: string,
  method: string,
  path: string,
  options: RawRequest = {},
): Promise<Reply<Problem>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body = options.raw;
  if (options.json !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, body: parsed as Problem };
}

/**
 * A small JPEG of one colour; a random shade by default. Its top-left corner holds a few random pixels, so no
 * two calls give the same bytes even with the same colour (content-addressed caches must never see a repeat).
 */
export async function makeJpeg(
  rgb: [number, number, number] = [100 + randomInt(60), 100 + randomInt(60), 100 + randomInt(60)],
  size = { width: 96, height: 64 },
): Promise<Buffer> {
  const pixels = Buffer.alloc(size.width * size.height * 3);
  for (let i = 0; i < pixels.length; i += 3) pixels.set(rgb, i);
  randomBytes(8 * 3).copy(pixels);
  return sharp(pixels, { raw: { ...size, channels: 3 } })
    .jpeg()
    .toBuffer();
}

/** A Windows executable's first bytes: the MZ header, the DOS stub message and a PE signature. */
export function renamedExecutable(): Buffer {
  const head = Buffer.alloc(512);
  head.write('MZ', 0, 'latin1');
  head.writeUInt32LE(0x80, 0x3c);
  head.write('This program cannot be run in DOS mode.\r\r\n$', 0x4e, 'latin1');
  head.write('PE\0\0', 0x80, 'latin1');
  return head;
}

/** A real ZIP holding one file of `bytes` zeros, compressed about a thousand to one. */
export function zipBomb(bytes = 64 * 1024 * 1024): Buffer {
  const zeros = Buffer.alloc(bytes);
  const data = deflateRawSync(zeros, { level: 9 });
  const name = Buffer.from('zeros.bin');
  const crc = crc32(zeros);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18);
  local.writeUInt32LE(bytes, 22);
  local.writeUInt16LE(name.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(data.length, 20);
  central.writeUInt32LE(bytes, 24);
  central.writeUInt16LE(name.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + name.length, 12);
  end.writeUInt32LE(local.length + name.length + data.length, 16);
  return Buffer.concat([local, name, data, central, name, end]);
}

/** JPEG magic and a JFIF header, then an HTML page and a ZIP: it sniffs as JPEG and is not an image. */
export function polyglot(): Buffer {
  const jfif = Buffer.from([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00,
    0x01, 0x00, 0x00,
  ]);
  const html = Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>');
  return Buffer.concat([jfif, html, zipBomb(1024 * 1024)]);
}

export const svgImage = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
);
export const htmlPage = Buffer.from('<!DOCTYPE html><html><body><h1>not a photo</h1></body></html>');

type Client = ReturnType<typeof apiClient>;

/** Creates a session for `declared` bytes of `contentType`; the test then decides what to upload. */
export async function openSession(
  client: Client,
  declared: { size: number; contentType?: string },
): Promise<UploadSession> {
  const created = await client.post<UploadSession>('/v1/uploads', {
    filename: 'upload.bin',
    contentType: declared.contentType ?? 'image/jpeg',
    size: declared.size,
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body;
}

/** PUTs `chunks[i]` as part i + 1 (a missing entry is not sent); returns what storage answered. */
export async function putChunks(
  session: UploadSession,
  chunks: (Buffer | undefined)[],
  expectedStatus = 200,
): Promise<{ partNumber: number; etag: string }[]> {
  const sent = [];
  for (const [i, chunk] of chunks.entries()) {
    if (!chunk) continue;
    const url = session.parts[i]?.url ?? '';
    const put = await putPart(url, chunk);
    assert.equal(put.status, expectedStatus, put.text);
    sent.push({ partNumber: i + 1, etag: put.etag ?? '' });
  }
  return sent;
}

/** `uploadBytes`, its completion read as a problem: the corpus expects refusals. */
export async function uploadAs(
  client: Client,
  bytes: Buffer,
  contentType: string,
): Promise<{ mediaId: string; uploadId: string; reply: Reply<Problem> }> {
  const { mediaId, uploadId, complete } = await uploadBytes(client, bytes, contentType);
  return { mediaId, uploadId, reply: complete as unknown as Reply<Problem> };
}

/**
 * After a corpus the process must still serve, and nothing may have leaked: the API is healthy, a normal
 * upload is accepted, and bob sees none of alice's media.
 */
export async function assertStillServes(platform: Platform): Promise<void> {
  assert.equal((await fetch(`${platform.apiUrl}/healthz`)).status, 200);
  const alice = apiClient(platform, platform.token('alice'));
  const bob = apiClient(platform, platform.token('bob'));
  const { mediaId, reply } = await uploadAs(alice, await makeJpeg(), 'image/jpeg');
  assert.equal(reply.status, 202, JSON.stringify(reply.body));

  const own = await alice.get<{ items: MediaView[] }>('/v1/media?owner=me');
  assert.ok(own.body.items.some((m) => m.id === mediaId));
  const seen = await bob.get<{ items: MediaView[] }>('/v1/media?owner=me');
  assert.equal(seen.status, 200);
  const leaked = seen.body.items.filter((m) => own.body.items.some((o) => o.id === m.id));
  assert.deepEqual(leaked, [], "bob's gallery holds none of alice's media");
  assert.equal((await bob.get(`/v1/media/${mediaId}`)).status, 404);
}
