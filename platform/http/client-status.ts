import type { ErrorCode } from '../../contracts/errors.ts';

/**
 * The catalogue code for a 4xx status raised by something other than our code: a plugin (static files
 * under /docs, the rate limiter), Fastify itself, or Node's HTTP parser. 400 stays `validation_failed`,
 * as Fastify's own refusals of a request always were.
 */
const codes = new Map<number, ErrorCode>([
  [400, 'validation_failed'],
  [401, 'unauthenticated'],
  [403, 'forbidden'],
  [404, 'not_found'],
  [405, 'method_not_allowed'],
  [406, 'not_acceptable'],
  [408, 'request_timeout'],
  [409, 'conflict'],
  [410, 'gone'],
  [411, 'length_required'],
  [412, 'precondition_failed'],
  [413, 'request_too_large'],
  [414, 'uri_too_long'],
  [415, 'unsupported_media_type'],
  [416, 'range_not_satisfiable'],
  [417, 'expectation_failed'],
  [429, 'rate_limited'],
  [431, 'headers_too_large'],
]);

/** Any other 4xx is still the client's: a 400 that says the request cannot be processed as sent. */
export function clientErrorCode(status: unknown): ErrorCode | undefined {
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 499)
    return undefined;
  return codes.get(status) ?? 'malformed_request';
}
