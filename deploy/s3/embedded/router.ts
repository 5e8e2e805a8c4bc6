import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { S3Error } from './errors.ts';
import type { Ctx, Operation } from './http.ts';
import type { Multipart } from './multipart.ts';
import * as bucketOps from './ops-bucket.ts';
import * as multipartOps from './ops-multipart.ts';
import * as objectOps from './ops-object.ts';
import { type SignerIdentity, verifyRequest } from './sigv4.ts';
import type { Store } from './store.ts';
import { parseQuery, percentDecode } from './uri.ts';
import { errorDocument } from './xml.ts';

/**
 * Turns a raw HTTP request into an S3 operation: CORS, path-style addressing, SigV4, dispatch by
 * method and subresource, and S3-shaped errors for whatever goes wrong.
 */

export interface RouterDeps {
  store: Store;
  multipart: Multipart;
  identity: SignerIdentity;
  onError: (error: unknown) => void;
}

/** Subresources this server does not implement; answering them as plain object calls would be wrong. */
const UNSUPPORTED = (
  'accelerate acl analytics attributes cors encryption intelligent-tiering inventory legal-hold logging metrics ' +
  'notification object-lock ownershipControls policy publicAccessBlock replication requestPayment restore ' +
  'retention select tagging torrent versioning versions website'
).split(' ');

const EXPOSED_HEADERS =
  'ETag, Content-Length, Content-Range, Content-Type, Last-Modified, Accept-Ranges, x-amz-request-id, ' +
  'x-amz-version-id, x-amz-checksum-crc32, x-amz-checksum-crc32c, x-amz-checksum-crc64nvme, ' +
  'x-amz-checksum-sha1, x-amz-checksum-sha256, *';

function route(
  method: string,
  bucket: string,
  key: string,
  query: Map<string, string>,
  copy: boolean,
): Operation | undefined {
  const has = (name: string) => query.has(name);
  if (bucket === '') return method === 'GET' ? bucketOps.listBuckets : undefined;
  if (key === '') {
    switch (method) {
      case 'PUT':
        return has('lifecycle') ? bucketOps.putBucketLifecycle : bucketOps.createBucket;
      case 'HEAD':
        return bucketOps.headBucket;
      case 'GET':
        if (has('lifecycle')) return bucketOps.getBucketLifecycle;
        if (has('uploads')) return multipartOps.listMultipartUploads;
        if (has('location')) return bucketOps.getBucketLocation;
        return query.get('list-type') === '2' ? bucketOps.listObjectsV2 : bucketOps.listObjectsV1;
      case 'DELETE':
        return has('lifecycle') ? bucketOps.deleteBucketLifecycle : bucketOps.deleteBucket;
      case 'POST':
        return has('delete') ? objectOps.deleteObjects : undefined;
    }
    return undefined;
  }
  switch (method) {
    case 'PUT':
      if (has('uploadId') || has('partNumber')) return multipartOps.uploadPart;
      return copy ? objectOps.copyObject : objectOps.putObject;
    case 'GET':
      return has('uploadId') ? multipartOps.listParts : objectOps.getObject;
    case 'HEAD':
      return objectOps.headObject;
    case 'DELETE':
      return has('uploadId') ? multipartOps.abortMultipartUpload : objectOps.deleteObject;
    case 'POST':
      if (has('uploads')) return multipartOps.createMultipartUpload;
      return has('uploadId') ? multipartOps.completeMultipartUpload : undefined;
  }
  return undefined;
}

function corsHeaders(req: IncomingMessage): Record<string, string> {
  const origin = req.headers.origin;
  if (origin === undefined) return {};
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    Vary: 'Origin',
  };
}

function preflight(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'Access-Control-Allow-Origin': req.headers.origin ?? '*',
    'Access-Control-Allow-Methods': 'GET, PUT, POST, DELETE, HEAD',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? '*',
    'Access-Control-Expose-Headers': EXPOSED_HEADERS,
    'Access-Control-Max-Age': '3000',
    Vary: 'Origin, Access-Control-Request-Headers',
    'Content-Length': '0',
  });
  res.end();
}

function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  error: S3Error,
  resource: string,
  requestId: string,
): void {
  if (res.headersSent) {
    // Mid-body there is no way left to tell the client; cutting the connection at least says "failed".
    res.destroy(error);
    return;
  }
  // A body the request never got to send is unread; close after answering rather than parse it as a request.
  const unread = !req.complete;
  const body = req.method === 'HEAD' ? undefined : errorDocument(error, resource, requestId);
  res.writeHead(error.status, {
    'Content-Type': 'application/xml',
    ...(body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) }),
    ...(unread ? { Connection: 'close' } : {}),
  });
  res.end(body);
  if (unread) req.resume();
}

export function createRouter(deps: RouterDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const requestId = randomBytes(8).toString('hex').toUpperCase();
    res.setHeader('x-amz-request-id', requestId);
    for (const [name, value] of Object.entries(corsHeaders(req))) res.setHeader(name, value);
    const url = req.url ?? '/';
    const qmark = url.indexOf('?');
    const rawPath = qmark < 0 ? url : url.slice(0, qmark);
    let resource = rawPath;

    const handle = async (): Promise<void> => {
      if (req.method === 'OPTIONS') return preflight(req, res);
      const slash = rawPath.indexOf('/', 1);
      const bucket = percentDecode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
      const key = slash < 0 ? '' : percentDecode(rawPath.slice(slash + 1));
      resource = key === '' ? `/${bucket}` : `/${bucket}/${key}`;
      const query = new Map(qmark < 0 ? [] : parseQuery(url.slice(qmark + 1)));
      const auth = verifyRequest(
        { method: req.method ?? 'GET', url, headers: req.headers },
        deps.identity,
        Date.now(),
      );
      const unsupported = UNSUPPORTED.find((name) => query.has(name));
      if (unsupported !== undefined) {
        throw new S3Error(
          501,
          'NotImplemented',
          `The ${unsupported} subresource is not supported by this server.`,
        );
      }
      const operation = route(
        req.method ?? '',
        bucket,
        key,
        query,
        req.headers['x-amz-copy-source'] !== undefined,
      );
      if (!operation) {
        throw new S3Error(
          405,
          'MethodNotAllowed',
          'The specified method is not allowed against this resource.',
          {
            Method: req.method ?? '',
            ResourceType: key === '' ? 'BUCKET' : 'OBJECT',
          },
        );
      }
      const { store, multipart, identity } = deps;
      const ctx: Ctx = {
        req,
        res,
        bucket,
        key,
        query,
        auth,
        store,
        multipart,
        region: identity.region,
      };
      await operation(ctx);
    };

    handle().catch((error: unknown) => {
      if (error instanceof S3Error) return sendError(req, res, error, resource, requestId);
      // The client went away mid-transfer: nobody is left to answer, and nothing is wrong with the server.
      if (req.errored || res.destroyed) return void res.destroy();
      deps.onError(error);
      sendError(
        req,
        res,
        new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.'),
        resource,
        requestId,
      );
    });
  };
}
