import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { S3Error } from './errors.ts';
import {
  type Ctx,
  header,
  isoDate,
  objectHeaders,
  objectMetaFrom,
  openBody,
  readXmlBody,
  requireIntegrityHeader,
  send,
  sendXml,
} from './http.ts';
import type { ObjectRecord } from './store.ts';
import { percentDecode } from './uri.ts';
import { bareEtag, el, parseDeleteObjects, text, xmlDocument } from './xml.ts';

/** Object-level operations that move whole objects: put, get/head (with ranges), delete, copy. */

const RESPONSE_OVERRIDES: Record<string, string> = {
  'response-content-type': 'Content-Type',
  'response-content-language': 'Content-Language',
  'response-expires': 'Expires',
  'response-cache-control': 'Cache-Control',
  'response-content-disposition': 'Content-Disposition',
  'response-content-encoding': 'Content-Encoding',
};

export const checksumHeaders = (checksum: ObjectRecord['checksum']): Record<string, string> =>
  checksum ? { [`x-amz-checksum-${checksum.algorithm}`]: checksum.value } : {};

export async function putObject(ctx: Ctx): Promise<void> {
  const meta = objectMetaFrom(ctx.req.headers);
  const payload = openBody(ctx);
  const record = await ctx.store.putObject(ctx.bucket, ctx.key, payload.body, () => ({
    ...meta,
    checksum: payload.checksum(),
  }));
  send(ctx, 200, { ETag: record.etag, ...checksumHeaders(record.checksum) }, '');
}

type Range = { start: number; end: number } | 'unsatisfiable' | undefined;

/** A single `bytes=` range as S3 honours it; anything it cannot parse means the whole object. */
function parseRange(value: string | undefined, size: number): Range {
  const match = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first = '', last = ''] = match;
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 || size === 0
      ? 'unsatisfiable'
      : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/** If-Match and friends; returns the status to answer with instead of the object, if any. */
function precondition(ctx: Ctx, record: ObjectRecord): 304 | 412 | undefined {
  const ifMatch = header(ctx.req.headers, 'if-match');
  const ifNoneMatch = header(ctx.req.headers, 'if-none-match');
  const modifiedSince = Date.parse(header(ctx.req.headers, 'if-modified-since') ?? '');
  const unmodifiedSince = Date.parse(header(ctx.req.headers, 'if-unmodified-since') ?? '');
  const matches = (list: string) =>
    list.split(',').some((tag) => tag.trim() === '*' || bareEtag(tag) === bareEtag(record.etag));
  // HTTP dates have one-second resolution.
  const modified = Math.floor(record.lastModified / 1000) * 1000;
  if (ifMatch !== undefined ? !matches(ifMatch) : modified > unmodifiedSince) return 412;
  if (ifNoneMatch !== undefined ? matches(ifNoneMatch) : modified <= modifiedSince) return 304;
  return undefined;
}

async function getOrHead(ctx: Ctx, record: ObjectRecord, handle: FileHandle | undefined): Promise<void> {
  const early = precondition(ctx, record);
  if (early !== undefined) {
    if (early === 412)
      throw new S3Error(
        412,
        'PreconditionFailed',
        'At least one of the pre-conditions you specified did not hold',
        { Condition: 'If-Match' },
      );
    send(ctx, 304, { ETag: record.etag, 'Last-Modified': new Date(record.lastModified).toUTCString() });
    return;
  }
  const rangeHeader = header(ctx.req.headers, 'range');
  const range = parseRange(rangeHeader, record.size);
  if (range === 'unsatisfiable') {
    throw new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', {
      RangeRequested: rangeHeader ?? '',
      ActualObjectSize: String(record.size),
    });
  }
  const headers = objectHeaders(record);
  for (const [param, name] of Object.entries(RESPONSE_OVERRIDES)) {
    const value = ctx.query.get(param);
    if (value !== undefined) headers[name] = value;
  }
  // A checksum describes the whole object, so S3 only sends it with whole-object responses.
  if (
    !range &&
    header(ctx.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED' &&
    record.checksum
  ) {
    Object.assign(headers, checksumHeaders(record.checksum), { 'x-amz-checksum-type': 'FULL_OBJECT' });
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? record.size - 1;
  headers['Content-Length'] = String(end - start + 1);
  if (range) headers['Content-Range'] = `bytes ${start}-${end}/${record.size}`;
  ctx.res.writeHead(range ? 206 : 200, headers);
  if (!handle || end < start) {
    ctx.res.end();
    return;
  }
  await pipeline(handle.createReadStream({ start, end }), ctx.res);
}

export async function getObject(ctx: Ctx): Promise<void> {
  const { record, handle } = await ctx.store.openObject(ctx.bucket, ctx.key);
  try {
    await getOrHead(ctx, record, handle);
  } finally {
    // Closing twice is harmless; this covers the paths that never created a read stream.
    await handle.close().catch(() => {});
  }
}

export async function headObject(ctx: Ctx): Promise<void> {
  await getOrHead(ctx, await ctx.store.headObject(ctx.bucket, ctx.key), undefined);
}

export async function deleteObject(ctx: Ctx): Promise<void> {
  await ctx.store.deleteObject(ctx.bucket, ctx.key);
  send(ctx, 204);
}

export async function deleteObjects(ctx: Ctx): Promise<void> {
  await ctx.store.requireBucket(ctx.bucket);
  requireIntegrityHeader(ctx);
  const request = parseDeleteObjects(await readXmlBody(ctx));
  const results: string[] = [];
  for (const key of request.keys) {
    try {
      await ctx.store.deleteObject(ctx.bucket, key);
      if (!request.quiet) results.push(el('Deleted', text('Key', key)));
    } catch (error) {
      if (!(error instanceof S3Error)) throw error;
      results.push(el('Error', text('Key', key), text('Code', error.code), text('Message', error.message)));
    }
  }
  sendXml(ctx, xmlDocument('DeleteResult', ...results));
}

function copySource(value: string): { bucket: string; key: string } {
  const path = percentDecode(value.split('?')[0] ?? '').replace(/^\//, '');
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) {
    throw new S3Error(
      400,
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      {
        ArgumentName: 'x-amz-copy-source',
        ArgumentValue: value,
      },
    );
  }
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1) };
}

export async function copyObject(ctx: Ctx): Promise<void> {
  const source = copySource(header(ctx.req.headers, 'x-amz-copy-source') ?? '');
  const directive = (header(ctx.req.headers, 'x-amz-metadata-directive') ?? 'COPY').toUpperCase();
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new S3Error(400, 'InvalidArgument', 'Unknown metadata directive.', {
      ArgumentName: 'x-amz-metadata-directive',
      ArgumentValue: directive,
    });
  }
  if (directive === 'COPY' && source.bucket === ctx.bucket && source.key === ctx.key) {
    throw new S3Error(
      400,
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  const replacement = directive === 'REPLACE' ? objectMetaFrom(ctx.req.headers) : undefined;
  const record = await ctx.store.copyObject(source, { bucket: ctx.bucket, key: ctx.key }, (original) => {
    const { contentType, metadata, headers, checksum } = original;
    return replacement ?? { contentType, metadata, headers, checksum };
  });
  sendXml(
    ctx,
    xmlDocument(
      'CopyObjectResult',
      text('LastModified', isoDate(record.lastModified)),
      text('ETag', record.etag),
    ),
  );
}
