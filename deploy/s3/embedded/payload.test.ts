import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { S3Error } from './errors.ts';
import { openPayload } from './payload.ts';
import type { VerifiedAuth } from './sigv4.ts';

const body = Buffer.from('<Delete><Object><Key>raw/a</Key></Object></Delete>');
const sha = createHash('sha256').update(body).digest('hex');
const auth = (payloadHash: string): VerifiedAuth => ({
  presigned: false,
  payloadHash,
  scope: '',
  signature: '',
});

async function read(pieces: Buffer[], payloadHash: string, length = body.length): Promise<Buffer> {
  async function* source() {
    yield* pieces;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of openPayload(source(), { 'content-length': String(length) }, auth(payloadHash))) {
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const code = (expected: string) => (error: unknown) => error instanceof S3Error && error.code === expected;

test('a body matching its signed SHA-256, or sent UNSIGNED-PAYLOAD, streams through as it came', async () => {
  const split = [body.subarray(0, 7), body.subarray(7)];
  assert.ok((await read(split, sha)).equals(body));
  assert.ok((await read(split, 'UNSIGNED-PAYLOAD')).equals(body));
});

test('a body that differs from its signed hash, or from its Content-Length, fails after the last byte', async () => {
  const changed = Buffer.from(body);
  changed[3] = 0x21;
  await assert.rejects(read([changed], sha), code('XAmzContentSHA256Mismatch'));
  await assert.rejects(read([body.subarray(1)], 'UNSIGNED-PAYLOAD'), code('IncompleteBody'));
});

test('aws-chunked and malformed payload hashes are refused before any byte is read', async () => {
  await assert.rejects(read([body], 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'), code('NotImplemented'));
  await assert.rejects(read([body], 'not-a-hash'), code('InvalidArgument'));
});
