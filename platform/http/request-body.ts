import { pipeline, Transform } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../contracts/errors.ts';

/**
 * What a request body may be: JSON in UTF-8, sent as is. Fastify on its own decodes any `charset` as UTF-8,
 * passes compressed bodies to the JSON parser as they came, takes `text/plain`, replaces invalid UTF-8
 * with U+FFFD (two different byte strings become one value), and validates a request with no body at all
 * as `undefined`, which fails even a schema whose every field is optional. Installed on the api; the edge
 * takes no bodies.
 */
export function installBodyRules(app: FastifyInstance): void {
  // Without a parser, Fastify answers 415 (FST_ERR_CTP_INVALID_MEDIA_TYPE) instead of a schema error.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonParser(app));
  app.addHook('preParsing', async (request, _reply, payload) => {
    refuseEncodings(request);
    return hasBody(request) ? pipeline(payload, utf8Checked(), () => {}) : payload;
  });
  // A request without a body (no Content-Type, no length) is an empty object to its route's schema: routes
  // whose fields are all optional (`complete` with no `parts`, a sweep with no options) take it, the others
  // name what is missing. Zero bytes declared as JSON stay `malformed_json`: they are not a JSON text.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {};
  });
}

/**
 * Fastify's JSON parser, which refuses the prototype-poisoning keys (`__proto__`, `constructor.prototype`)
 * with the same "not valid JSON" it gives broken syntax; a client sending such a key gets told which it is.
 */
function jsonParser(app: FastifyInstance) {
  const parse = app.getDefaultJsonParser('error', 'error');
  return (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void) =>
    parse(request, body, (error, value) => {
      if (error && body.length > 0 && isJson(body)) {
        done(
          new AppError(
            'malformed_json',
            'The body names the key "__proto__" (or "constructor" holding "prototype"), which is refused: rename it',
          ),
        );
        return;
      }
      done(error, value);
    });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Node undoes `chunked` and nothing else: a body sent with `Content-Encoding: gzip` or `Transfer-Encoding:
 * gzip, chunked` would reach the JSON parser as compressed bytes.
 */
function refuseEncodings(request: FastifyRequest): void {
  const encoding = request.headers['content-encoding'];
  const transfer = request.headers['transfer-encoding'];
  const compressed =
    (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') ||
    (transfer !== undefined && transfer.trim().toLowerCase() !== 'chunked');
  if (compressed) {
    throw new AppError(
      'unsupported_media_type',
      'Send the body uncompressed: only Transfer-Encoding: chunked and no Content-Encoding are accepted',
    );
  }
  const charset = charsetOf(request.headers['content-type']);
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new AppError(
      'unsupported_media_type',
      'Send the body as application/json in UTF-8 (charset=utf-8)',
    );
  }
}

/** The `charset` parameter of a Content-Type, lower-cased and unquoted; undefined when there is none. */
function charsetOf(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  for (const parameter of contentType.split(';').slice(1)) {
    const [name, value = ''] = parameter.split('=', 2);
    if (name?.trim().toLowerCase() === 'charset')
      return value
        .trim()
        .replace(/^"(.*)"$/, '$1')
        .toLowerCase();
  }
  return undefined;
}

/** Passes the body through unchanged, failing it with `malformed_json` at the first byte that is not UTF-8. */
function utf8Checked(): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const refusal = () => new AppError('malformed_json', 'The request body is not valid UTF-8');
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.decode(chunk, { stream: true });
        done(null, chunk);
      } catch {
        done(refusal());
      }
    },
    flush(done) {
      try {
        decoder.decode();
        done();
      } catch {
        done(refusal());
      }
    },
  });
}
