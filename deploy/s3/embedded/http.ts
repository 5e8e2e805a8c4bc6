import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { malformedXml, S3Error } from './errors.ts';
import type { Multipart } from './multipart.ts';
import { openPayload } from './payload.ts';
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

export const openBody = (ctx: Ctx): AsyncIterable<Buffer> => openPayload(ctx.req, ctx.req.headers, ctx.auth);

/** Reads a small XML request body, verified like any payload. */
export async function readXmlBody(ctx: Ctx): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of openBody(ctx)) {
    size += chunk.length;
    if (size > MAX_XML_BODY) throw malformedXml();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * S3 insists on an integrity check for the requests that take XML configuration or key lists. The SDK
 * sends a CRC32; its signed x-amz-content-sha256, verified as the body streams, is the stronger check.
 */
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

/** What a PUT or CreateMultipartUpload asks to store with the object: its type (mediagate sends no more). */
export function objectMetaFrom(headers: IncomingHttpHeaders): ObjectMeta {
  return { contentType: header(headers, 'content-type') ?? 'binary/octet-stream' };
}

export function objectHeaders(record: ObjectRecord): Record<string, string> {
  return {
    'Content-Type': record.contentType,
    ETag: record.etag,
    'Last-Modified': new Date(record.lastModified).toUTCString(),
    'Accept-Ranges': 'bytes',
  };
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
