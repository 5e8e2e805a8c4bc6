import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { S3Error } from './errors.ts';
import { canonicalPath, canonicalQuery, parseQuery } from './uri.ts';

/** AWS Signature Version 4 as S3 checks it: the Authorization header form and the presigned query form. */

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60_000;
const MAX_EXPIRES_S = 7 * 24 * 3600;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export interface SignerIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface RequestToVerify {
  method: string;
  /** The request target exactly as received: raw path plus optional `?query`. */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** What a verified request carries forward: the payload promise, and what was signed. */
export interface VerifiedAuth {
  presigned: boolean;
  payloadHash: string;
  scope: string;
  signature: string;
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

function signingKey(secret: string, date: string, region: string, service = 's3'): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

function headerValue(headers: RequestToVerify['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function amzDateMs(amzDate: string): number {
  const m = AMZ_DATE.exec(amzDate);
  if (!m) return Number.NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}

interface AuthParts {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
}

function parseCredential(credential: string, malformed: (msg: string) => S3Error) {
  const [accessKeyId, date, region, service, terminal, ...rest] = credential.split('/');
  if (!accessKeyId || !date || !region || !service || terminal !== 'aws4_request' || rest.length > 0) {
    throw malformed(
      `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
    );
  }
  return { accessKeyId, date, region, service };
}

function fromHeader(header: string, headers: RequestToVerify['headers']): AuthParts {
  const malformed = (msg: string) => new S3Error(400, 'AuthorizationHeaderMalformed', msg);
  if (!header.startsWith(`${ALGORITHM} `)) {
    const detail = { ArgumentName: 'Authorization', ArgumentValue: header.split(' ')[0] ?? '' };
    throw new S3Error(
      400,
      'InvalidArgument',
      'Unsupported Authorization Type; only AWS4-HMAC-SHA256 is accepted',
      detail,
    );
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(ALGORITHM.length).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    throw malformed(
      'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.',
    );
  }
  const amzDate = headerValue(headers, 'x-amz-date');
  if (!amzDate) {
    throw new S3Error(403, 'AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  }
  const payloadHash = headerValue(headers, 'x-amz-content-sha256');
  if (!payloadHash) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'Missing required header for this request: x-amz-content-sha256',
    );
  }
  return {
    ...parseCredential(credential, malformed),
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate,
    payloadHash,
  };
}

function fromQuery(query: Map<string, string>, now: number): AuthParts {
  const malformed = (msg: string) => new S3Error(400, 'AuthorizationQueryParametersError', msg);
  if (query.get('X-Amz-Algorithm') !== ALGORITHM) {
    throw malformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  }
  const credential = query.get('X-Amz-Credential');
  const amzDate = query.get('X-Amz-Date');
  const expires = query.get('X-Amz-Expires');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  if (!credential || !amzDate || !expires || !signedHeaders || !signature) {
    throw malformed(
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  }
  const seconds = /^\d+$/.test(expires) ? Number(expires) : Number.NaN;
  if (!(seconds >= 1 && seconds <= MAX_EXPIRES_S)) {
    throw malformed('X-Amz-Expires must be between 1 and 604800 seconds');
  }
  const signedAt = amzDateMs(amzDate);
  if (Number.isNaN(signedAt))
    throw malformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
  if (now > signedAt + seconds * 1000) {
    throw new S3Error(403, 'AccessDenied', 'Request has expired', {
      'X-Amz-Expires': expires,
      Expires: new Date(signedAt + seconds * 1000).toISOString(),
      ServerTime: new Date(now).toISOString(),
    });
  }
  if (signedAt - now > MAX_SKEW_MS) throw new S3Error(403, 'AccessDenied', 'Request is not valid yet');
  return {
    ...parseCredential(credential, malformed),
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate,
    payloadHash: query.get('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD,
  };
}

function canonicalHeaderValue(value: string | undefined): string {
  return (value ?? '').trim().replace(/\s+/g, ' ');
}

function sameSignature(expected: string, provided: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(provided);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks a request's signature against the one configured identity, at time `now` (ms since epoch).
 * Throws the S3Error AWS would answer with; returns what the body decoder needs to keep verifying.
 */
export function verifyRequest(req: RequestToVerify, identity: SignerIdentity, now: number): VerifiedAuth {
  const qmark = req.url.indexOf('?');
  const rawPath = qmark < 0 ? req.url : req.url.slice(0, qmark);
  const pairs = qmark < 0 ? [] : parseQuery(req.url.slice(qmark + 1));
  const query = new Map(pairs);
  const authorization = headerValue(req.headers, 'authorization');
  const presigned = authorization === undefined && query.has('X-Amz-Algorithm');
  if (authorization === undefined && !presigned) {
    throw new S3Error(403, 'AccessDenied', 'Access Denied');
  }
  const parts = presigned ? fromQuery(query, now) : fromHeader(authorization ?? '', req.headers);

  if (parts.accessKeyId !== identity.accessKeyId) {
    const message = 'The AWS Access Key Id you provided does not exist in our records.';
    throw new S3Error(403, 'InvalidAccessKeyId', message, { AWSAccessKeyId: parts.accessKeyId });
  }
  const malformedCode = presigned ? 'AuthorizationQueryParametersError' : 'AuthorizationHeaderMalformed';
  if (parts.region !== identity.region) {
    const message = `The authorization header is malformed; the region '${parts.region}' is wrong; expecting '${identity.region}'`;
    throw new S3Error(400, malformedCode, message, { Region: identity.region });
  }
  if (parts.service !== 's3') {
    throw new S3Error(
      400,
      malformedCode,
      `The authorization header is malformed; incorrect service "${parts.service}". This endpoint belongs to "s3".`,
    );
  }
  if (parts.date !== parts.amzDate.slice(0, 8)) {
    throw new S3Error(400, malformedCode, 'Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  if (!presigned) {
    const signedAt = amzDateMs(parts.amzDate);
    if (Number.isNaN(signedAt) || Math.abs(now - signedAt) > MAX_SKEW_MS) {
      throw new S3Error(
        403,
        'RequestTimeTooSkewed',
        "The difference between the request time and the server's time is too large.",
        {
          RequestTime: parts.amzDate,
          ServerTime: new Date(now).toISOString(),
        },
      );
    }
  }
  if (!parts.signedHeaders.includes('host')) {
    throw new S3Error(400, malformedCode, 'The host header must be signed.');
  }
  if (presigned) {
    // S3 refuses presigned requests that smuggle unsigned x-amz-* headers (e.g. metadata) past the signer.
    const unsigned = Object.keys(req.headers).filter(
      (h) => h.startsWith('x-amz-') && !parts.signedHeaders.includes(h),
    );
    if (unsigned.length > 0) {
      throw new S3Error(
        403,
        'AccessDenied',
        'There were headers present in the request which were not signed',
        {
          HeadersNotSigned: unsigned.join(', '),
        },
      );
    }
  }

  const canonicalRequest = [
    req.method,
    canonicalPath(rawPath),
    canonicalQuery(presigned ? pairs.filter(([name]) => name !== 'X-Amz-Signature') : pairs),
    ...parts.signedHeaders.map((h) => `${h}:${canonicalHeaderValue(headerValue(req.headers, h))}`),
    '',
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
  const scope = `${parts.date}/${parts.region}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, parts.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = signingKey(identity.secretAccessKey, parts.date, parts.region);
  const expected = hmac(key, stringToSign).toString('hex');
  if (!sameSignature(expected, parts.signature)) {
    throw new S3Error(
      403,
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      {
        AWSAccessKeyId: parts.accessKeyId,
        StringToSign: stringToSign,
        SignatureProvided: parts.signature,
        CanonicalRequest: canonicalRequest,
      },
    );
  }
  return { presigned, payloadHash: parts.payloadHash, scope, signature: expected };
}
