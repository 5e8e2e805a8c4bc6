import { S3Error } from './errors.ts';
import {
  type Ctx,
  integerParam,
  isoDate,
  readXmlBody,
  requireIntegrityHeader,
  send,
  sendXml,
} from './http.ts';
import { parseLifecycle } from './lifecycle.ts';
import type { Listing } from './store.ts';
import { childText, el, parseXml, text, xmlDocument } from './xml.ts';

/** Bucket-level operations: creating and checking the bucket, listing its objects, its lifecycle rules. */

export async function createBucket(ctx: Ctx): Promise<void> {
  const body = await readXmlBody(ctx);
  if (body.trim() !== '') {
    const constraint = childText(parseXml(body), 'LocationConstraint')?.trim() || 'us-east-1';
    if (constraint !== ctx.region) {
      throw new S3Error(
        400,
        'IllegalLocationConstraintException',
        `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
  }
  const created = await ctx.store.createBucket(ctx.bucket);
  // us-east-1 answers a repeated create by the owner with success; every other region refuses it.
  if (!created && ctx.region !== 'us-east-1') {
    throw new S3Error(
      409,
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      {
        BucketName: ctx.bucket,
      },
    );
  }
  send(ctx, 200, { Location: `/${ctx.bucket}` }, '');
}

export async function headBucket(ctx: Ctx): Promise<void> {
  await ctx.store.requireBucket(ctx.bucket);
  send(ctx, 200, { 'x-amz-bucket-region': ctx.region });
}

const listingXml = (listing: Listing): string[] =>
  listing.objects.map((o) =>
    el(
      'Contents',
      text('Key', o.key),
      text('LastModified', isoDate(o.lastModified)),
      text('ETag', o.etag),
      text('Size', o.size),
      text('StorageClass', 'STANDARD'),
    ),
  );

const toToken = (marker: string): string => Buffer.from(marker).toString('base64url');

function fromToken(token: string): string {
  const marker = Buffer.from(token, 'base64url').toString('utf8');
  if (toToken(marker) !== token) {
    throw new S3Error(400, 'InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
      ArgumentValue: token,
    });
  }
  return marker;
}

/** ListObjectsV2 by prefix, page by page: what the storage sweeper walks. */
export async function listObjectsV2(ctx: Ctx): Promise<void> {
  const prefix = ctx.query.get('prefix') ?? '';
  const maxKeys = integerParam(ctx, 'max-keys', 1000, 1000);
  const token = ctx.query.get('continuation-token');
  const after = token !== undefined ? fromToken(token) : '';
  const listing = await ctx.store.listObjects(ctx.bucket, { prefix, after, maxKeys });
  sendXml(
    ctx,
    xmlDocument(
      'ListBucketResult',
      text('Name', ctx.bucket),
      text('Prefix', prefix),
      text('MaxKeys', maxKeys),
      text('KeyCount', listing.objects.length),
      text('IsTruncated', listing.truncated),
      text('ContinuationToken', token),
      listing.truncated && listing.last !== undefined
        ? text('NextContinuationToken', toToken(listing.last))
        : '',
      ...listingXml(listing),
    ),
  );
}

export async function putBucketLifecycle(ctx: Ctx): Promise<void> {
  await ctx.store.requireBucket(ctx.bucket);
  requireIntegrityHeader(ctx);
  const xml = await readXmlBody(ctx);
  parseLifecycle(xml);
  await ctx.store.putLifecycle(ctx.bucket, xml);
  send(ctx, 200, {}, '');
}

export async function getBucketLifecycle(ctx: Ctx): Promise<void> {
  const xml = await ctx.store.getLifecycle(ctx.bucket);
  if (xml === undefined) {
    throw new S3Error(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', {
      BucketName: ctx.bucket,
    });
  }
  sendXml(ctx, xml);
}
