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
 * Turns a raw HTTP request into an S3 operation: CORS (web clients PUT parts straight here), path-style
 * addressing, SigV4, dispatch by method and subresource, and S3-shaped errors for whatever goes wrong.
 * Only the operations mediagate uses exist; everything else is 405 or 501.
 */

export interface RouterDeps {
  store: Store;
  multipart: Multipart;
  identity: SignerIdentity;
  onError: (error: unknown) => void;
}

/**
 * The query parameters of the requests mediagate sends (SigV4's own, `x-id` the SDK adds, and those of
 * the operations below). Anything else asks for S3 behaviour this server does not have (`?tagging`,
 * `?versionId`, `?acl`…); answering it as a plain object or bucket call would be wrong, so it is refused.
 */
const KNOWN_PARAMS = new Set(
  (
    'X-Amz-Algorithm X-Amz-Content-Sha256 X-Amz-Credential X-Amz-Date X-Amz-Expires X-Amz-Signature ' +
    'X-Amz-SignedHeaders X-Amz-Security-Token x-id uploads uploadId partNumber part-number-marker ' +
    'max-parts delete lifecycle list-type prefix max-keys continuation-token'
  ).split(' '),
);

const EXPOSED_HEADERS =
  'ETag, Content-Length, Content-Range, Content-Type, Last-Modified, Accept-Ranges, x-amz-request-id';

function route(
  method: string,
  bucket: string,
  key: string,
  query: Map<string, string>,
): Operation | undefined {
  const has = (name: string) => query.has(name);
  if (bucket === '') return undefined;
  if (key === '') {
    switch (method) {
      case 'PUT':
        return has('lifecycle') ? bucketOps.putBucketLifecycle : bucketOps.createBucket;
      case 'HEAD':
        return bucketOps.headBucket;
      case 'GET':
        if (has('lifecycle')) return bucketOps.getBucketLifecycle;
        return query.get('list-type') === '2' ? bucketOps.listObjectsV2 : undefined;
      case 'POST':
        return has('delete') ? objectOps.deleteObjects : undefined;
    }
    return undefined;
  }
  switch (method) {
    case 'PUT':
      return has('uploadId') || has('partNumber') ? multipartOps.uploadPart : objectOps.putObject;
    case 'GET':
      return has('uploadId') ? multipartOps.listParts : objectOps.getObject;
    case 'HEAD':
      return objectOps.headObject;
    case 'DELETE':
      return has('uploadId') ? multipartOps.abortMultipartUpload : undefined;
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
      const unknown = [...query.keys()].find((name) => !KNOWN_PARAMS.has(name));
      const copy = req.headers['x-amz-copy-source'] !== undefined;
      if (unknown !== undefined || copy) {
        const what = copy ? 'Copying objects' : `The ${unknown} parameter`;
        throw new S3Error(501, 'NotImplemented', `${what} is not supported by this server.`);
      }
      const operation = route(req.method ?? '', bucket, key, query);
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
