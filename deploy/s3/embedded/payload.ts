import { createHash } from 'node:crypto';
import { incompleteBody, S3Error } from './errors.ts';
import { UNSIGNED_PAYLOAD, type VerifiedAuth } from './sigv4.ts';

/**
 * The request body as mediagate's clients send it: plain bytes of a declared length, with either a signed
 * SHA-256 (the SDK's XML bodies) or UNSIGNED-PAYLOAD (presigned part PUTs, the worker's PutObject, whose
 * client asks for checksums only when S3 requires them). What was promised — the hash, the length — is
 * checked while the bytes stream through; a broken promise surfaces as an S3Error thrown by the iterator
 * after the last byte, so the caller must not commit what it wrote before then. aws-chunked bodies
 * (STREAMING-*) are refused: no mediagate client sends them.
 */

type Headers = Readonly<Record<string, string | string[] | undefined>>;

function declaredLength(headers: Headers): number | undefined {
  const raw = headers['content-length'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d{1,15}$/.test(raw)) {
    throw new S3Error(400, 'InvalidArgument', 'Content-Length must be a non-negative integer.');
  }
  return Number(raw);
}

export function openPayload(source: AsyncIterable<Buffer>, headers: Headers, auth: VerifiedAuth) {
  const mode = auth.payloadHash;
  if (mode.startsWith('STREAMING-')) {
    throw new S3Error(501, 'NotImplemented', 'aws-chunked payloads are not supported by this server.');
  }
  const hex = /^[0-9a-fA-F]{64}$/.test(mode);
  if (!hex && mode !== UNSIGNED_PAYLOAD) {
    throw new S3Error(
      400,
      'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD or a sha256 value.',
      {
        ArgumentName: 'x-amz-content-sha256',
        ArgumentValue: mode,
      },
    );
  }
  const length = declaredLength(headers);
  // Everything of unknown length would be aws-chunked, which is refused above.
  if (length === undefined && headers['transfer-encoding'] !== undefined) {
    throw new S3Error(411, 'MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }

  async function* body(): AsyncGenerator<Buffer> {
    const sha = hex ? createHash('sha256') : undefined;
    let size = 0;
    for await (const piece of source) {
      size += piece.length;
      sha?.update(piece);
      yield piece;
    }
    if (length !== undefined && size !== length) throw incompleteBody();
    const sha256 = sha?.digest('hex');
    if (sha256 !== undefined && sha256 !== mode.toLowerCase()) {
      throw new S3Error(
        400,
        'XAmzContentSHA256Mismatch',
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
        { ClientComputedContentSHA256: mode, S3ComputedContentSHA256: sha256 },
      );
    }
  }
  return body();
}
