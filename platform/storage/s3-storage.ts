import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  type ListPartsCommandOutput,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Config } from '../config.ts';
import {
  MultipartRejectedError,
  type ObjectHead,
  type ObjectStorage,
  StorageUnavailableError,
  type StoredPart,
  type UrlAudience,
} from './object-storage.ts';

export function createS3Client(s3: Config['s3'], endpoint = s3.endpoint): S3Client {
  return new S3Client({
    endpoint,
    region: s3.region,
    forcePathStyle: s3.forcePathStyle,
    credentials:
      s3.accessKeyId && s3.secretAccessKey
        ? { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey }
        : undefined,
    // Clients PUT parts with plain HTTP; a checksum the SDK would add to presigned URLs cannot be honoured.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Without a logger the SDK writes to the console, e.g. a warning for every upload a shutdown cancels;
    // every failure reaches the caller as an error, which logs it where it matters.
    logger: silentSdkLogger,
  });
}

const silentSdkLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

export function createS3Storage(s3: Config['s3']): ObjectStorage {
  const client = createS3Client(s3);
  // SigV4 signs the Host: a URL for clients must be signed for the address they will reach, not rewritten.
  const publicClient = s3.publicEndpoint ? createS3Client(s3, s3.publicEndpoint) : client;
  const signer = (audience: UrlAudience) => (audience === 'public' ? publicClient : client);
  const Bucket = s3.bucket;

  return {
    bucket: Bucket,

    async ensureBucket() {
      try {
        await client.send(new HeadBucketCommand({ Bucket }));
      } catch (error) {
        if (statusOf(error) !== 404) throw wrap(error);
        await guard(client.send(new CreateBucketCommand({ Bucket })));
      }
    },

    async createMultipartUpload(key, contentType) {
      const out = await guard(
        client.send(new CreateMultipartUploadCommand({ Bucket, Key: key, ContentType: contentType })),
      );
      if (!out.UploadId) throw new StorageUnavailableError('storage returned no upload id');
      return out.UploadId;
    },

    presignUploadPart(key, uploadId, { partNumber, contentLength }, expiresIn) {
      // ContentLength becomes a signed header (X-Amz-SignedHeaders=content-length;host).
      const command = new UploadPartCommand({
        Bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        ContentLength: contentLength,
      });
      return getSignedUrl(publicClient, command, { expiresIn });
    },

    async listParts(key, uploadId) {
      const parts: StoredPart[] = [];
      let marker: string | undefined;
      for (;;) {
        let out: ListPartsCommandOutput;
        try {
          out = await client.send(
            new ListPartsCommand({ Bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
          );
        } catch (error) {
          if (codeOf(error) === 'NoSuchUpload' || statusOf(error) === 404) return undefined;
          throw wrap(error);
        }
        for (const p of out.Parts ?? []) {
          parts.push({ partNumber: p.PartNumber ?? 0, etag: p.ETag ?? '', size: p.Size ?? 0 });
        }
        if (!out.IsTruncated || !out.NextPartNumberMarker) return parts;
        marker = out.NextPartNumberMarker;
      }
    },

    async completeMultipartUpload(key, uploadId, parts) {
      try {
        await client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key: key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
          }),
        );
      } catch (error) {
        const code = codeOf(error);
        if (code === 'EntityTooSmall') throw new MultipartRejectedError('part_too_small', messageOf(error));
        if (code === 'InvalidPart') throw new MultipartRejectedError('part_etag_mismatch', messageOf(error));
        if (code === 'InvalidPartOrder')
          throw new MultipartRejectedError('parts_incomplete', messageOf(error));
        if (code === 'NoSuchUpload') throw new MultipartRejectedError('upload_not_open', messageOf(error));
        throw wrap(error);
      }
    },

    async abortMultipartUpload(key, uploadId) {
      try {
        await client.send(new AbortMultipartUploadCommand({ Bucket, Key: key, UploadId: uploadId }));
      } catch (error) {
        if (codeOf(error) !== 'NoSuchUpload' && statusOf(error) !== 404) throw wrap(error);
      }
    },

    async head(key): Promise<ObjectHead | undefined> {
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return {
          size: out.ContentLength ?? 0,
          contentType: out.ContentType,
          etag: out.ETag,
          lastModified: out.LastModified,
        };
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw wrap(error);
      }
    },

    async readRange(key, start, endInclusive) {
      const out = await guard(
        client.send(new GetObjectCommand({ Bucket, Key: key, Range: `bytes=${start}-${endInclusive}` })),
      );
      if (!out.Body) return Buffer.alloc(0);
      return Buffer.from(await out.Body.transformToByteArray());
    },

    async readHead(key, length) {
      let out: GetObjectCommandOutput;
      try {
        out = await client.send(new GetObjectCommand({ Bucket, Key: key, Range: `bytes=0-${length - 1}` }));
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) return undefined;
        // An empty object has no first byte: storage refuses the range (416) instead of sending nothing.
        if (status === 416) return { bytes: Buffer.alloc(0), size: 0 };
        throw wrap(error);
      }
      const bytes = out.Body ? Buffer.from(await out.Body.transformToByteArray()) : Buffer.alloc(0);
      // `bytes 0-1023/52311`; a server that ignored the range answered with the whole object instead.
      const total = /\/(\d+)$/.exec(out.ContentRange ?? '')?.[1];
      return { bytes: bytes.subarray(0, length), size: total === undefined ? bytes.length : Number(total) };
    },

    presignGet(key, expiresIn, audience) {
      return getSignedUrl(signer(audience), new GetObjectCommand({ Bucket, Key: key }), { expiresIn });
    },

    async getStream(key, options = {}) {
      const out = await guard(
        client.send(new GetObjectCommand({ Bucket, Key: key }), { abortSignal: options.signal }),
      );
      return out.Body as Readable;
    },

    async put(key, body, contentType, size, options = {}) {
      await guard(
        client.send(
          new PutObjectCommand({
            Bucket,
            Key: key,
            Body: body,
            ContentType: contentType,
            ContentLength: size,
          }),
          { abortSignal: options.signal },
        ),
      );
    },

    async *listKeys(prefix) {
      let token: string | undefined;
      do {
        const page = await guard(
          client.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, ContinuationToken: token })),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key && object.LastModified) yield { key: object.Key, lastModified: object.LastModified };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async delete(keys) {
      for (let i = 0; i < keys.length; i += 1000) {
        const batch = keys.slice(i, i + 1000).map((Key) => ({ Key }));
        if (batch.length === 0) continue;
        await guard(
          client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: batch, Quiet: true } })),
        );
      }
    },
  };
}

async function guard<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise;
  } catch (error) {
    throw wrap(error);
  }
}

function wrap(error: unknown): Error {
  if (error instanceof S3ServiceException && (error.$metadata.httpStatusCode ?? 500) < 500) return error;
  return new StorageUnavailableError(`object storage failed: ${messageOf(error)}`, { cause: error });
}

function statusOf(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

function codeOf(error: unknown): string | undefined {
  return error instanceof S3ServiceException ? error.name : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
