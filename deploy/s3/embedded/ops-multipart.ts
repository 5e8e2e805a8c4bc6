import { S3Error } from './errors.ts';
import {
  type Ctx,
  header,
  integerParam,
  isoDate,
  objectMetaFrom,
  openBody,
  readXmlBody,
  send,
  sendXml,
} from './http.ts';
import { uriEncode } from './uri.ts';
import { el, parseCompleteMultipartUpload, text, xmlDocument } from './xml.ts';

/** Multipart upload operations: initiate, upload parts, list, complete, abort. */

const MAX_PART_NUMBER = 10_000;
const INITIATOR = el('Initiator', text('ID', 'mediagate-embedded'), text('DisplayName', 'mediagate'));

const uploadId = (ctx: Ctx): string => ctx.query.get('uploadId') ?? '';

export async function createMultipartUpload(ctx: Ctx): Promise<void> {
  const upload = await ctx.multipart.create(ctx.bucket, ctx.key, objectMetaFrom(ctx.req.headers));
  sendXml(
    ctx,
    xmlDocument(
      'InitiateMultipartUploadResult',
      text('Bucket', ctx.bucket),
      text('Key', ctx.key),
      text('UploadId', upload.uploadId),
    ),
  );
}

export async function uploadPart(ctx: Ctx): Promise<void> {
  const raw = ctx.query.get('partNumber') ?? '';
  const partNumber = /^\d{1,5}$/.test(raw) ? Number(raw) : 0;
  if (partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw new S3Error(
      400,
      'InvalidArgument',
      'Part number must be an integer between 1 and 10000, inclusive',
      {
        ArgumentName: 'partNumber',
        ArgumentValue: raw,
      },
    );
  }
  const part = await ctx.multipart.putPart(ctx.bucket, ctx.key, uploadId(ctx), partNumber, openBody(ctx));
  send(ctx, 200, { ETag: part.etag }, '');
}

export async function listParts(ctx: Ctx): Promise<void> {
  const { upload, parts } = await ctx.multipart.listParts(ctx.bucket, ctx.key, uploadId(ctx));
  const maxParts = integerParam(ctx, 'max-parts', 1000, 1000);
  const marker = integerParam(ctx, 'part-number-marker', 0, MAX_PART_NUMBER);
  const after = parts.filter((part) => part.partNumber > marker);
  const page = after.slice(0, maxParts);
  const truncated = after.length > page.length;
  sendXml(
    ctx,
    xmlDocument(
      'ListPartsResult',
      text('Bucket', ctx.bucket),
      text('Key', ctx.key),
      text('UploadId', upload.uploadId),
      text('PartNumberMarker', marker),
      text('NextPartNumberMarker', page.at(-1)?.partNumber ?? marker),
      text('MaxParts', maxParts),
      text('IsTruncated', truncated),
      ...page.map((part) =>
        el(
          'Part',
          text('PartNumber', part.partNumber),
          text('LastModified', isoDate(part.lastModified)),
          text('ETag', part.etag),
          text('Size', part.size),
        ),
      ),
      INITIATOR,
      text('StorageClass', 'STANDARD'),
    ),
  );
}

export async function completeMultipartUpload(ctx: Ctx): Promise<void> {
  const parts = parseCompleteMultipartUpload(await readXmlBody(ctx));
  const record = await ctx.multipart.complete(ctx.bucket, ctx.key, uploadId(ctx), parts);
  const path = [ctx.bucket, ...ctx.key.split('/')].map(uriEncode).join('/');
  sendXml(
    ctx,
    xmlDocument(
      'CompleteMultipartUploadResult',
      text('Location', `http://${header(ctx.req.headers, 'host') ?? 'localhost'}/${path}`),
      text('Bucket', ctx.bucket),
      text('Key', ctx.key),
      text('ETag', record.etag),
    ),
  );
}

export async function abortMultipartUpload(ctx: Ctx): Promise<void> {
  await ctx.multipart.abort(ctx.bucket, ctx.key, uploadId(ctx));
  send(ctx, 204);
}
