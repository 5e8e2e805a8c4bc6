import type { FileHandle } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { S3Error } from './errors.ts';
import {
  type Ctx,
  header,
  objectHeaders,
  objectMetaFrom,
  openBody,
  readXmlBody,
  requireIntegrityHeader,
  send,
  sendXml,
} from './http.ts';
import type { ObjectRecord } from './store.ts';
import { bareEtag, el, parseDeleteObjects, text, xmlDocument } from './xml.ts';

/**
 * Object-level operations that move whole objects: put, get/head (with ranges, and the conditional
 * requests browsers revalidate cached media with), batch delete.
 */

export async function putObject(ctx: Ctx): Promise<void> {
  const meta = objectMetaFrom(ctx.req.headers);
  const record = await ctx.store.putObject(ctx.bucket, ctx.key, openBody(ctx), () => meta);
  send(ctx, 200, { ETag: record.etag }, '');
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
