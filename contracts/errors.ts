/**
 * The one error catalogue. Codes are part of the public contract: clients branch on `code`, never on
 * `title` or `detail`. Each code has exactly one HTTP status.
 */
export const errorCatalogue = {
  validation_failed: { status: 400, title: 'The request does not match the schema' },
  malformed_json: { status: 400, title: 'The request body is not valid JSON' },
  malformed_request: { status: 400, title: 'The request is not valid HTTP or cannot be processed as sent' },
  unauthenticated: { status: 401, title: 'A valid bearer token is required' },
  token_expired: { status: 401, title: 'The token has expired' },
  forbidden: { status: 403, title: 'Not allowed' },
  admin_required: { status: 403, title: 'This route needs the admin role' },
  not_found: { status: 404, title: 'No such resource' },
  upload_not_found: { status: 404, title: 'No such upload' },
  media_not_found: { status: 404, title: 'No such media' },
  object_not_found: { status: 404, title: 'No such object' },
  method_not_allowed: { status: 405, title: 'This method is not allowed here' },
  not_acceptable: { status: 406, title: 'No representation matches the Accept headers' },
  request_timeout: { status: 408, title: 'The request did not arrive in time' },
  conflict: { status: 409, title: 'The request conflicts with the current state' },
  upload_not_open: { status: 409, title: 'The upload is no longer open' },
  upload_completing: {
    status: 409,
    title: 'Another completion of this upload is in progress; retry shortly',
  },
  upload_expired: { status: 410, title: 'The upload session has expired' },
  gone: { status: 410, title: 'The media was deleted or taken down' },
  payload_too_large: { status: 413, title: 'The declared size exceeds the limit for this kind' },
  request_too_large: { status: 413, title: 'The request body is too large' },
  length_required: { status: 411, title: 'The request needs a Content-Length' },
  precondition_failed: { status: 412, title: 'A precondition of the request failed' },
  uri_too_long: { status: 414, title: 'The request URL is too long' },
  range_not_satisfiable: { status: 416, title: 'The requested range is not satisfiable' },
  expectation_failed: { status: 417, title: 'The Expect header asks for something the server does not do' },
  headers_too_large: { status: 431, title: 'The request URL or headers are too large' },
  unsupported_media_type: { status: 415, title: 'This content type is not accepted' },
  parts_incomplete: { status: 400, title: 'Storage does not hold every part of the upload' },
  part_etag_mismatch: { status: 400, title: 'A part ETag does not match what storage holds' },
  part_too_small: { status: 400, title: 'Every part but the last must be at least 5 MiB' },
  size_mismatch: { status: 422, title: 'The uploaded size differs from the declared size' },
  type_mismatch: { status: 422, title: 'The file content does not match the declared type' },
  media_unreadable: { status: 422, title: 'The media could not be read by the probe' },
  image_too_large: { status: 422, title: 'The image has more pixels than the decoder limit' },
  video_too_large: { status: 422, title: 'The video’s frames have more pixels than the limit' },
  media_rejected: { status: 422, title: 'The media was rejected' },
  moderation_rejected: { status: 422, title: 'The content breaks the content policy' },
  malware: { status: 422, title: 'The file carries malware' },
  rate_limited: { status: 429, title: 'Too many requests' },
  too_many_streams: { status: 429, title: 'Too many live status streams are open for this user' },
  storage_unavailable: { status: 503, title: 'Object storage is unavailable, retry later' },
  storage_bucket_missing: {
    status: 503,
    title: 'The storage bucket does not exist; an operator must create it',
  },
  database_unavailable: { status: 503, title: 'The database is unavailable, retry later' },
  live_status_busy: {
    status: 503,
    title: 'This API instance holds all the live status streams it allows; retry later',
  },
  moderation_unavailable: { status: 503, title: 'Moderation is unavailable, complete again later' },
  webhook_signature_invalid: { status: 401, title: 'The webhook signature is missing, stale or wrong' },
  webhook_token_invalid: { status: 401, title: 'The callback URL carries no token this server issued' },
  moderation_job_unknown: { status: 409, title: 'No moderation job of this media matches the verdict' },
  webhook_endpoint_not_found: { status: 404, title: 'No such webhook endpoint' },
  webhook_delivery_not_found: { status: 404, title: 'No such delivery for this webhook endpoint' },
  webhook_url_invalid: { status: 400, title: 'A webhook endpoint needs an http(s) URL without credentials' },
  webhook_url_forbidden: {
    status: 422,
    title: 'The webhook URL resolves to a private, loopback or otherwise unreachable-by-policy address',
  },
  webhook_url_unresolvable: { status: 422, title: 'The webhook URL host does not resolve' },
  internal_error: { status: 500, title: 'Internal error' },
  // Why processing failed, as the worker reports it and the media view shows it (`failure.code`).
  media_empty: { status: 422, title: 'The file is empty' },
  media_undecodable: { status: 422, title: 'The audio or video could not be decoded' },
  media_timeout: { status: 422, title: 'Processing the audio or video exceeded its time budget' },
  image_undecodable: { status: 422, title: 'The image could not be decoded' },
  image_timeout: { status: 422, title: 'Processing the image exceeded its time budget' },
  output_failed: { status: 500, title: 'An output (poster, thumbnail, playlist) could not be built' },
  rendition_failed: { status: 500, title: 'A rendition could not be built, even on retry' },
  outputs_failed: { status: 500, title: 'The media is ready but some outputs could not be built' },
  processing_failed: { status: 500, title: 'Processing failed' },
  processing_dead_lettered: {
    status: 500,
    title: 'Processing failed on every attempt; operators can redrive it',
  },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/**
 * Codes the worker puts on a failed result or a failed output: the upload's own faults (422) and ours.
 * The worker's error types derive from this list, so a code it reports is always in the catalogue.
 */
export const processingFailureCodes = [
  'media_empty',
  'media_undecodable',
  'media_timeout',
  'image_undecodable',
  'image_timeout',
  'image_too_large',
  'output_failed',
  'rendition_failed',
  'processing_failed',
  'processing_dead_lettered',
] as const satisfies readonly ErrorCode[];
export type ProcessingFailureCode = (typeof processingFailureCodes)[number];

export const problemTypeBase = 'https://mediagate.dev/problems/';

/**
 * A failure the caller can act on: it carries a catalogue code. The HTTP layer turns it into problem+json;
 * domain functions throw it without knowing about HTTP.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, detail?: string, headers: Record<string, string> = {}) {
    super(detail ?? errorCatalogue[code].title);
    this.code = code;
    this.headers = headers;
  }
}
