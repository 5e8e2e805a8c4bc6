import type { IncomingHttpHeaders } from 'node:http';

/** What storage says of the object the conditions are judged against. */
export interface Validators {
  etag: string | undefined;
  lastModified: Date | undefined;
}

/**
 * RFC 9110 §13.2.2 in its order, for a GET or HEAD of bytes the edge serves itself: `If-Match` (else
 * `If-Unmodified-Since`) failing is `412`, so a download resumed with them never splices two versions;
 * `If-None-Match` (else `If-Modified-Since`) holding is `304`. A date that is no HTTP-date, or lies in
 * the future, is ignored, as is a condition storage gives nothing to judge by.
 */
export function preconditions(
  headers: IncomingHttpHeaders,
  object: Validators,
): 'proceed' | 'not-modified' | 'failed' {
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!listMatches(ifMatch, object.etag, strong)) return 'failed';
  } else if (changedSince(headers['if-unmodified-since'], object.lastModified) === true) {
    return 'failed';
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined)
    return listMatches(ifNoneMatch, object.etag, weak) ? 'not-modified' : 'proceed';
  return changedSince(headers['if-modified-since'], object.lastModified) === false
    ? 'not-modified'
    : 'proceed';
}

/**
 * Whether a `Range` may be honoured (RFC 9110 §13.1.5): no `If-Range`, or one naming the version storage
 * holds, an ETag compared strongly or a date equal to Last-Modified. Otherwise the whole object is sent.
 */
export function ifRangeHolds(headers: IncomingHttpHeaders, object: Validators): boolean {
  const ifRange = headers['if-range'];
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false;
  const validator = ifRange.trim();
  if (validator.startsWith('"') || validator.startsWith('W/'))
    return object.etag !== undefined && strong(validator, object.etag);
  return object.lastModified !== undefined && Date.parse(validator) === object.lastModified.getTime();
}

const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
const weak = (tag: string, etag: string) => opaque(tag) === opaque(etag);
const strong = (tag: string, etag: string) =>
  !tag.trim().startsWith('W/') && !etag.startsWith('W/') && tag.trim() === etag;

/** `*` (the object exists) or a list of ETags, one of which equals storage's by `compare`. */
function listMatches(
  header: string,
  etag: string | undefined,
  compare: (tag: string, etag: string) => boolean,
): boolean {
  if (header.trim() === '*') return true;
  return etag !== undefined && header.split(',').some((tag) => compare(tag, etag));
}

/** Whether the object changed after the header's date; undefined when there is nothing to judge. */
function changedSince(header: string | undefined, lastModified: Date | undefined): boolean | undefined {
  if (header === undefined || lastModified === undefined) return undefined;
  const since = Date.parse(header);
  if (Number.isNaN(since) || since > Date.now()) return undefined;
  // HTTP-dates have whole seconds: Last-Modified went out without its milliseconds.
  return Math.floor(lastModified.getTime() / 1000) * 1000 > since;
}
