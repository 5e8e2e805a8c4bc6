import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { createChecksum } from './checksum.ts';
import { S3Error } from './errors.ts';
import { openPayload } from './payload.ts';
import { signingKey, type VerifiedAuth } from './sigv4.ts';

// Bodies framed exactly as in the S3 API reference's chunked-upload examples (66560 bytes of 'a' in
// chunks of 64 KiB and 1 KiB), with AWS's published chunk and trailer signatures.

const DATA = Buffer.alloc(66_560, 'a');
const base = {
  presigned: false,
  signingKey: signingKey('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', '20130524', 'us-east-1'),
  amzDate: '20130524T000000Z',
  scope: '20130524/us-east-1/s3/aws4_request',
};

const signedAuth: VerifiedAuth = {
  ...base,
  payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  signature: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
};
const signedBody = (
  signatures = [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
) =>
  Buffer.concat([
    Buffer.from(`10000;chunk-signature=${signatures[0]}\r\n`),
    DATA.subarray(0, 65_536),
    Buffer.from(`\r\n400;chunk-signature=${signatures[1]}\r\n`),
    DATA.subarray(65_536),
    Buffer.from(`\r\n0;chunk-signature=${signatures[2]}\r\n\r\n`),
  ]);

const trailerAuth: VerifiedAuth = {
  ...base,
  payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  signature: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
};
const trailerBody = (trailer = 'x-amz-checksum-crc32c:sOO8/Q==') =>
  Buffer.concat([
    Buffer.from('10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n'),
    DATA.subarray(0, 65_536),
    Buffer.from(
      '\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n',
    ),
    DATA.subarray(65_536),
    Buffer.from(
      '\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n' +
        `${trailer}\r\n` +
        'x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n',
    ),
  ]);

/** Feeds `body` in pieces of `every` bytes, so framing lands across piece boundaries. */
async function* pieces(body: Buffer, every: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < body.length; i += every) yield body.subarray(i, i + every);
}

async function decode(body: Buffer, headers: Record<string, string>, auth: VerifiedAuth, every = 997) {
  const payload = openPayload(pieces(body, every), headers, auth);
  const out: Buffer[] = [];
  for await (const piece of payload.body) out.push(Buffer.from(piece));
  return { data: Buffer.concat(out), checksum: payload.checksum() };
}

async function refused(run: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(
    run,
    (error: unknown) => error instanceof S3Error && error.status === status && error.code === code,
  );
}

const chunkedHeaders = { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '66560' };

test('decodes the published chunk-signed body, wherever the pieces split it', async () => {
  for (const every of [3, 997, 70_000]) {
    const { data } = await decode(signedBody(), chunkedHeaders, signedAuth, every);
    assert.ok(data.equals(DATA), `split every ${every}`);
  }
});

test('refuses the chunk-signed body when any chunk signature, byte or the length is off', async () => {
  const good = signedBody();
  const badSignature = signedBody([
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '1055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ]);
  await refused(decode(badSignature, chunkedHeaders, signedAuth), 403, 'SignatureDoesNotMatch');
  const flipped = Buffer.from(good);
  flipped[1000] = 0x62;
  await refused(decode(flipped, chunkedHeaders, signedAuth), 403, 'SignatureDoesNotMatch');
  await refused(decode(good.subarray(0, 40_000), chunkedHeaders, signedAuth), 400, 'IncompleteBody');
  await refused(
    decode(good, { ...chunkedHeaders, 'x-amz-decoded-content-length': '66561' }, signedAuth),
    400,
    'IncompleteBody',
  );
  assert.throws(
    () => openPayload(pieces(good, 10), { 'content-encoding': 'aws-chunked' }, signedAuth),
    S3Error,
  );
});

test('decodes the published body with a signed CRC32C trailer and reports the verified checksum', async () => {
  const headers = { ...chunkedHeaders, 'x-amz-trailer': 'x-amz-checksum-crc32c' };
  const { data, checksum } = await decode(trailerBody(), headers, trailerAuth);
  assert.ok(data.equals(DATA));
  assert.deepEqual(checksum, { algorithm: 'crc32c', value: 'sOO8/Q==' });
  await refused(
    decode(trailerBody('x-amz-checksum-crc32c:sOO8/A=='), headers, trailerAuth),
    403,
    'SignatureDoesNotMatch',
  );
});

test('decodes an unsigned body with a CRC32 trailer the way the AWS SDK frames it', async () => {
  const crc = createChecksum('crc32');
  crc.update(DATA);
  const framed = (value: string) =>
    Buffer.concat([
      Buffer.from('8000\r\n'),
      DATA.subarray(0, 32_768),
      Buffer.from(`\r\n${(DATA.length - 32_768).toString(16)}\r\n`),
      DATA.subarray(32_768),
      Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${value}\r\n\r\n`),
    ]);
  const auth = { ...signedAuth, payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' };
  const headers = { ...chunkedHeaders, 'x-amz-trailer': 'x-amz-checksum-crc32' };
  const { data, checksum } = await decode(framed(crc.digest()), headers, auth);
  assert.ok(data.equals(DATA));
  assert.equal(checksum?.algorithm, 'crc32');
  await refused(decode(framed('AAAAAA=='), headers, auth), 400, 'BadDigest');
});

test('holds every chunk but the last to the 8 KiB minimum, as S3 does', async () => {
  const small = Buffer.from(
    '400\r\n'.concat('a'.repeat(1024), '\r\n400\r\n', 'a'.repeat(1024), '\r\n0\r\n\r\n'),
  );
  const auth = { ...signedAuth, payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' };
  const headers = { 'content-encoding': 'aws-chunked', 'x-amz-decoded-content-length': '2048' };
  await refused(decode(small, headers, auth), 403, 'InvalidChunkSizeError');
});

test('checks a signed payload hash, Content-MD5 and a checksum header on a plain body', async () => {
  const body = Buffer.from('hello world');
  const sha = createHash('sha256').update(body).digest('hex');
  const md5 = createHash('md5').update(body).digest('base64');
  const auth = { ...signedAuth, payloadHash: sha };
  const { data } = await decode(body, { 'content-length': '11', 'content-md5': md5 }, auth, 3);
  assert.equal(data.toString(), 'hello world');
  await refused(
    decode(Buffer.from('hello_world'), { 'content-length': '11' }, auth),
    400,
    'XAmzContentSHA256Mismatch',
  );
  const unsigned = { ...auth, payloadHash: 'UNSIGNED-PAYLOAD' };
  const wrongMd5 = createHash('md5').update('other').digest('base64');
  await refused(
    decode(body, { 'content-length': '11', 'content-md5': wrongMd5 }, unsigned),
    400,
    'BadDigest',
  );
  await refused(
    decode(body, { 'x-amz-checksum-sha256': Buffer.alloc(32).toString('base64') }, unsigned),
    400,
    'BadDigest',
  );
});

test('computes the check values of every checksum algorithm', () => {
  const expected = {
    crc32: 'cbf43926',
    crc32c: 'e3069283',
    crc64nvme: 'ae8b14860a799888',
    sha1: 'f7c3bc1d808e04732adf679965ccc34ca7ae3441',
    sha256: '15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225',
  } as const;
  for (const [algorithm, hex] of Object.entries(expected)) {
    const sum = createChecksum(algorithm as keyof typeof expected);
    sum.update(Buffer.from('1234'));
    sum.update(Buffer.from('56789'));
    assert.equal(Buffer.from(sum.digest(), 'base64').toString('hex'), hex, algorithm);
  }
});
