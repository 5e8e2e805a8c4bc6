import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { malformedXml, S3Error } from './errors.ts';
import type { Multipart } from './multipart.ts';
import { openPayload, type Payload } from './payload.ts';
import type { VerifiedAuth } from './sigv4.ts';
import type { ObjectMeta, ObjectRecord, Store } from './store.ts';

/** One authenticated S3 request on its way through an operation, and the helpers operations share. */

export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  /** Empty for service-level requests. */
  bucket: string;
  /** Empty for bucket-level requests. */
  key: string;
  query: Map<string, string>;
  auth: VerifiedAuth;
  store: Store;
  multipart: Multipart;
  region: string;
}

export type Operation = (ctx: Ctx) => Promise<void>;

const MAX_XML_BODY = 1024 * 1024;
const MAX_METADATA_BYTES = 2048;
const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
];

export const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

export function send(ctx: Ctx, status: number, headers: Record<string, string> = {}, body?: string): void {
  ctx.res.writeHead(status, {
    ...headers,
    ...(body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) }),
  });
  ctx.res.end(body);
}

export function sendXml(ctx: Ctx, xml: string, headers: Record<string, string> = {}): void {
  send(ctx, 200, { 'Content-Type': 'application/xml', ...headers }, xml);
}

export const openBody = (ctx: Ctx): Payload => openPayload(ctx.req, ctx.req.headers, ctx.auth);

/** Reads a small XML request body, verified like any payload. */
export async function readXmlBody(ctx: Ctx): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of openBody(ctx).body) {
    size += chunk.length;
    if (size > MAX_XML_BODY) throw malformedXml();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** S3 insists on an integrity check for the requests that take XML configuration or key lists. */
export function requireIntegrityHeader(ctx: Ctx): void {
  const names = Object.keys(ctx.req.headers);
  if (!names.includes('content-md5') && !names.some((name) => name.startsWith('x-amz-checksum-'))) {
    throw new S3Error(
      400,
      'InvalidRequest',
      'Missing required header for this request: Content-MD5 OR x-amz-checksum-*',
    );
  }
}

/** The metadata a PUT or CreateMultipartUpload asks to store with the object. */
export function objectMetaFrom(headers: IncomingHttpHeaders): ObjectMeta {
  const metadata: Record<string, string> = {};
  let size = 0;
  for (const name of Object.keys(headers)) {
    const value = header(headers, name);
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    metadata[name.slice('x-amz-meta-'.length)] = value;
    size += name.length - 'x-amz-meta-'.length + value.length;
  }
  if (size > MAX_METADATA_BYTES) {
    throw new S3Error(
      400,
      'MetadataTooLarge',
      'Your metadata headers exceed the maximum allowed metadata size.',
      {
        Size: String(size),
        MaxSizeAllowed: String(MAX_METADATA_BYTES),
      },
    );
  }
  const stored: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    let value = header(headers, name);
    // aws-chunked describes the upload framing, not the object; S3 does not keep it.
    if (name === 'content-encoding' && value !== undefined) {
      value = value
        .split(',')
        .map((token) => token.trim())
        .filter((token) => token !== '' && token !== 'aws-chunked')
        .join(', ');
    }
    if (value) stored[name] = value;
  }
  return { contentType: header(headers, 'content-type') ?? 'binary/octet-stream', metadata, headers: stored };
}

export function objectHeaders(record: ObjectRecord): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': record.contentType,
    ETag: record.etag,
    'Last-Modified': new Date(record.lastModified).toUTCString(),
    'Accept-Ranges': 'bytes',
    ...record.headers,
  };
  for (const [name, value] of Object.entries(record.metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

export const isoDate = (ms: number): string => new Date(ms).toISOString();

export function integerParam(ctx: Ctx, name: string, fallback: number, max: number): number {
  const raw = ctx.query.get(name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new S3Error(400, 'InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: raw,
    });
  }
  return Math.min(Number(raw), max);
}
