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

/** Service- and bucket-level operations: buckets themselves, listing their objects, lifecycle. */

const OWNER = el('Owner', text('ID', 'mediagate-embedded'), text('DisplayName', 'mediagate'));

export async function listBuckets(ctx: Ctx): Promise<void> {
  const buckets = await ctx.store.listBuckets();
  const entries = buckets.map((b) =>
    el('Bucket', text('Name', b.name), text('CreationDate', isoDate(b.created))),
  );
  sendXml(ctx, xmlDocument('ListAllMyBucketsResult', OWNER, el('Buckets', ...entries)));
}

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

export async function deleteBucket(ctx: Ctx): Promise<void> {
  await ctx.store.deleteBucket(ctx.bucket);
  send(ctx, 204);
}

export async function getBucketLocation(ctx: Ctx): Promise<void> {
  await ctx.store.requireBucket(ctx.bucket);
  // S3 reports us-east-1 as an empty constraint, for historical reasons.
  const region = ctx.region === 'us-east-1' ? '' : ctx.region;
  sendXml(
    ctx,
    `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${region}</LocationConstraint>`,
  );
}

function listingXml(listing: Listing): string[] {
  const contents = listing.objects.map((o) =>
    el(
      'Contents',
      text('Key', o.key),
      text('LastModified', isoDate(o.lastModified)),
      text('ETag', o.etag),
      o.checksum ? text('ChecksumAlgorithm', o.checksum.algorithm.toUpperCase()) : '',
      text('Size', o.size),
      text('StorageClass', 'STANDARD'),
    ),
  );
  const prefixes = listing.commonPrefixes.map((p) => el('CommonPrefixes', text('Prefix', p)));
  return [...contents, ...prefixes];
}

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

export async function listObjectsV2(ctx: Ctx): Promise<void> {
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const maxKeys = integerParam(ctx, 'max-keys', 1000, 1000);
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after');
  const after = token !== undefined ? fromToken(token) : (startAfter ?? '');
  const listing = await ctx.store.listObjects(ctx.bucket, { prefix, delimiter, after, maxKeys });
  sendXml(
    ctx,
    xmlDocument(
      'ListBucketResult',
      text('Name', ctx.bucket),
      text('Prefix', prefix),
      delimiter ? text('Delimiter', delimiter) : '',
      text('MaxKeys', maxKeys),
      text('KeyCount', listing.objects.length + listing.commonPrefixes.length),
      text('IsTruncated', listing.truncated),
      text('ContinuationToken', token),
      listing.truncated && listing.last !== undefined
        ? text('NextContinuationToken', toToken(listing.last))
        : '',
      text('StartAfter', startAfter),
      ...listingXml(listing),
    ),
  );
}

export async function listObjectsV1(ctx: Ctx): Promise<void> {
  const prefix = ctx.query.get('prefix') ?? '';
  const delimiter = ctx.query.get('delimiter') ?? '';
  const marker = ctx.query.get('marker') ?? '';
  const maxKeys = integerParam(ctx, 'max-keys', 1000, 1000);
  const listing = await ctx.store.listObjects(ctx.bucket, { prefix, delimiter, after: marker, maxKeys });
  sendXml(
    ctx,
    xmlDocument(
      'ListBucketResult',
      text('Name', ctx.bucket),
      text('Prefix', prefix),
      text('Marker', marker),
      delimiter ? text('Delimiter', delimiter) : '',
      text('MaxKeys', maxKeys),
      text('IsTruncated', listing.truncated),
      // S3 sends NextMarker only with a delimiter; without one, clients continue from the last key.
      listing.truncated && delimiter ? text('NextMarker', listing.last) : '',
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

export async function deleteBucketLifecycle(ctx: Ctx): Promise<void> {
  await ctx.store.deleteLifecycle(ctx.bucket);
  send(ctx, 204);
}
