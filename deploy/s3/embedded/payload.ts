import { createHash } from 'node:crypto';
import { type ChecksumAlgorithm, createChecksum, isChecksumAlgorithm } from './checksum.ts';
import { incompleteBody, S3Error } from './errors.ts';
import {
  chunkSignature,
  EMPTY_SHA256,
  sameSignature,
  trailerSignature,
  UNSIGNED_PAYLOAD,
  type VerifiedAuth,
} from './sigv4.ts';

/**
 * The request body as S3 receives it: plain, or `aws-chunked` with per-chunk signatures and trailing
 * checksums. Everything the client promised (payload hash, chunk signatures, Content-MD5, checksums,
 * length) is checked while the bytes stream through; a broken promise surfaces as an S3Error thrown
 * by the iterator after the last byte, so the caller must not commit what it wrote before then.
 */

type Headers = Readonly<Record<string, string | string[] | undefined>>;

export interface VerifiedChecksum {
  algorithm: ChecksumAlgorithm;
  value: string;
}

export interface Payload {
  body: AsyncIterable<Buffer>;
  /** The additional checksum the client sent, verified; only meaningful once `body` is consumed. */
  checksum(): VerifiedChecksum | undefined;
}

const MIN_CHUNK = 8192;
const MAX_LINE = 4096;
const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';

const single = (headers: Headers, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

const invalidRequest = (message: string) => new S3Error(400, 'InvalidRequest', message);
const malformedChunk = () => invalidRequest('The aws-chunked request body is malformed.');
const chunkSignatureMismatch = () =>
  new S3Error(
    403,
    'SignatureDoesNotMatch',
    'The chunk signature we calculated does not match the signature you provided.',
  );

interface Declared {
  algorithm: ChecksumAlgorithm;
  header: string;
  /** Absent when the value arrives as a trailer. */
  value?: string;
}

function declaredChecksum(headers: Headers, trailerMode: boolean): Declared | undefined {
  const inHeaders = Object.keys(headers)
    .filter((name) => name.startsWith('x-amz-checksum-'))
    .filter((name) => isChecksumAlgorithm(name.slice('x-amz-checksum-'.length)));
  if (inHeaders.length > 1) {
    throw invalidRequest(
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }
  const trailer = single(headers, 'x-amz-trailer')?.trim().toLowerCase();
  if (trailer !== undefined) {
    if (!trailerMode)
      throw invalidRequest('x-amz-trailer is only allowed with a STREAMING-*-TRAILER payload.');
    const algorithm = trailer.slice('x-amz-checksum-'.length);
    if (!trailer.startsWith('x-amz-checksum-') || !isChecksumAlgorithm(algorithm)) {
      throw invalidRequest('The value specified in the x-amz-trailer header is not supported');
    }
    if (inHeaders.length > 0)
      throw invalidRequest('Expecting a single checksum, in a header or in a trailer.');
    return { algorithm, header: trailer };
  }
  const header = inHeaders[0];
  if (header === undefined) {
    if (single(headers, 'x-amz-sdk-checksum-algorithm') !== undefined) {
      throw invalidRequest(
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      );
    }
    return undefined;
  }
  const algorithm = header.slice('x-amz-checksum-'.length) as ChecksumAlgorithm;
  return { algorithm, header, value: single(headers, header) };
}

function lengthFrom(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw invalidRequest('Invalid content length.');
  return Number(value);
}

/** Strips aws-chunked framing, checking the signature chain when one is present and collecting trailers. */
async function* dechunk(
  source: AsyncIterable<Buffer>,
  chain: VerifiedAuth | undefined,
  trailerSigned: boolean,
  trailers: Map<string, string>,
): AsyncGenerator<Buffer> {
  let pending: Buffer = Buffer.alloc(0);
  let phase: 'size' | 'data' | 'crlf' | 'trailer' | 'done' = 'size';
  let remaining = 0;
  let chunkNumber = 0;
  let lastSize = 0;
  let previous = chain?.signature ?? '';
  let provided = '';
  let hash = createHash('sha256');
  let canonicalTrailers = '';
  let trailerSignatureValue: string | undefined;

  const verifyChunk = (digest: string) => {
    if (!chain) return;
    const expected = chunkSignature(chain, previous, digest);
    if (!sameSignature(expected, provided)) throw chunkSignatureMismatch();
    previous = expected;
  };

  for await (const piece of source) {
    pending = pending.length > 0 ? Buffer.concat([pending, piece]) : piece;
    while (pending.length > 0 && phase !== 'done') {
      if (phase === 'data') {
        const data = pending.subarray(0, Math.min(remaining, pending.length));
        pending = pending.subarray(data.length);
        remaining -= data.length;
        if (chain) hash.update(data);
        if (remaining === 0) phase = 'crlf';
        yield data;
        continue;
      }
      if (phase === 'crlf') {
        if (pending.length < 2) break;
        if (pending[0] !== 0x0d || pending[1] !== 0x0a) throw malformedChunk();
        pending = pending.subarray(2);
        verifyChunk(hash.digest('hex'));
        phase = 'size';
        continue;
      }
      const eol = pending.indexOf('\r\n');
      if (eol < 0) {
        if (pending.length > MAX_LINE) throw malformedChunk();
        break;
      }
      const line = pending.subarray(0, eol).toString('latin1');
      pending = pending.subarray(eol + 2);
      if (phase === 'size') {
        const [sizeText = '', ...extensions] = line.split(';');
        if (!/^[0-9a-fA-F]{1,12}$/.test(sizeText)) throw malformedChunk();
        const size = Number.parseInt(sizeText, 16);
        if (chain) {
          const signature = extensions.find((e) => e.startsWith('chunk-signature='));
          if (!signature) throw malformedChunk();
          provided = signature.slice('chunk-signature='.length);
        }
        // S3 holds every chunk but the last data chunk to a minimum size.
        if (chunkNumber > 0 && lastSize < MIN_CHUNK && size > 0) {
          throw new S3Error(
            403,
            'InvalidChunkSizeError',
            'Only the last chunk is allowed to have a size less than 8192 bytes',
            {
              Chunk: String(chunkNumber),
              BadChunkSize: String(lastSize),
            },
          );
        }
        chunkNumber += 1;
        lastSize = size;
        if (size === 0) {
          verifyChunk(EMPTY_SHA256);
          phase = 'trailer';
        } else {
          remaining = size;
          hash = createHash('sha256');
          phase = 'data';
        }
      } else if (line === '') {
        phase = 'done';
      } else {
        const colon = line.indexOf(':');
        if (colon <= 0) throw malformedChunk();
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === 'x-amz-trailer-signature') {
          trailerSignatureValue = value;
        } else {
          trailers.set(name, value);
          canonicalTrailers += `${name}:${value}\n`;
        }
      }
    }
  }
  if (pending.length > 0) throw phase === 'done' ? malformedChunk() : incompleteBody();
  // Some clients end right after the zero-length chunk when they have nothing to trail.
  if (phase !== 'done' && phase !== 'trailer') throw incompleteBody();
  if (chain && trailerSigned && trailers.size > 0) {
    if (trailerSignatureValue === undefined) throw invalidRequest('The trailing headers were not signed.');
    if (!sameSignature(trailerSignature(chain, previous, canonicalTrailers), trailerSignatureValue)) {
      throw chunkSignatureMismatch();
    }
  }
}

/** Validates what can be validated before reading, then hands back the verifying body stream. */
export function openPayload(source: AsyncIterable<Buffer>, headers: Headers, auth: VerifiedAuth): Payload {
  const mode = auth.payloadHash;
  const hex = /^[0-9a-fA-F]{64}$/.test(mode);
  const streaming =
    mode === STREAMING_UNSIGNED_TRAILER || mode === STREAMING_SIGNED || mode === STREAMING_SIGNED_TRAILER;
  if (mode.startsWith('STREAMING-AWS4-ECDSA')) {
    throw new S3Error(501, 'NotImplemented', 'SigV4a streaming payloads are not supported by this server.');
  }
  if (!hex && !streaming && mode !== UNSIGNED_PAYLOAD) {
    throw new S3Error(
      400,
      'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value.',
      { ArgumentName: 'x-amz-content-sha256', ArgumentValue: mode },
    );
  }
  if (streaming && auth.presigned)
    throw invalidRequest('Streaming payloads require the Authorization header.');
  const trailerMode = mode === STREAMING_UNSIGNED_TRAILER || mode === STREAMING_SIGNED_TRAILER;
  // Presigned URLs carry checksums only as headers; AWS ignores the x-amz-checksum-* query parameters
  // that the JS SDK bakes into presigned PutObject/UploadPart URLs (a CRC of the empty body).
  const declared = declaredChecksum(headers, trailerMode);
  const length = streaming
    ? lengthFrom(single(headers, 'x-amz-decoded-content-length'))
    : lengthFrom(single(headers, 'content-length'));
  // S3 streams nothing of unknown length except aws-chunked bodies, which announce their decoded length.
  if (length === undefined && (streaming || single(headers, 'transfer-encoding') !== undefined)) {
    throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }
  const contentMd5 = single(headers, 'content-md5');
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16) {
    throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
  }

  let verified: VerifiedChecksum | undefined;
  async function* body(): AsyncGenerator<Buffer> {
    const sha = hex ? createHash('sha256') : undefined;
    const md5 = contentMd5 !== undefined ? createHash('md5') : undefined;
    const sum = declared ? createChecksum(declared.algorithm) : undefined;
    const trailers = new Map<string, string>();
    const signed = mode === STREAMING_SIGNED || mode === STREAMING_SIGNED_TRAILER;
    const bytes = streaming
      ? dechunk(source, signed ? auth : undefined, mode === STREAMING_SIGNED_TRAILER, trailers)
      : source;
    let size = 0;
    for await (const piece of bytes) {
      size += piece.length;
      sha?.update(piece);
      md5?.update(piece);
      sum?.update(piece);
      yield piece;
    }
    if (length !== undefined && size !== length) throw incompleteBody();
    const sha256 = sha?.digest('hex');
    if (sha256 !== undefined && sha256 !== mode.toLowerCase()) {
      throw new S3Error(
        400,
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        {
          ClientComputedContentSHA256: mode,
          S3ComputedContentSHA256: sha256,
        },
      );
    }
    if (md5 && md5.digest('base64') !== contentMd5) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
    for (const name of trailers.keys()) {
      if (name !== declared?.header)
        throw invalidRequest(`The trailing header ${name} was not declared in x-amz-trailer.`);
    }
    if (declared && sum) {
      const expected = declared.value ?? trailers.get(declared.header);
      if (expected === undefined)
        throw invalidRequest(`The trailing header ${declared.header} was declared but not sent.`);
      const actual = sum.digest();
      if (actual !== expected) {
        throw new S3Error(
          400,
          'BadDigest',
          `The ${declared.algorithm.toUpperCase()} you specified did not match the calculated checksum.`,
        );
      }
      verified = { algorithm: declared.algorithm, value: actual };
    }
  }
  return { body: body(), checksum: () => verified };
}
