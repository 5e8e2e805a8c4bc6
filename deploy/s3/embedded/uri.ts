import { S3Error } from './errors.ts';

/** URI handling as SigV4 and S3 define it: percent-encoding rules and the canonical path and query. */

/** RFC 3986 encoding as SigV4 defines it: everything but unreserved characters, UTF-8 bytes. */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `+` stays literal: SigV4 clients always percent-encode spaces, and S3 keys may contain `+`. */
export function percentDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new S3Error(400, 'InvalidURI', "Couldn't parse the specified URI.", { URI: value });
  }
}

export function parseQuery(rawQuery: string): Array<[string, string]> {
  return rawQuery
    .split('&')
    .filter((part) => part !== '')
    .map((part) => {
      const eq = part.indexOf('=');
      return eq < 0
        ? [percentDecode(part), '']
        : [percentDecode(part.slice(0, eq)), percentDecode(part.slice(eq + 1))];
    });
}

export function canonicalPath(rawPath: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  return path
    .split('/')
    .map((segment) => uriEncode(percentDecode(segment)))
    .join('/');
}

export function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([an, av], [bn, bv]) => (an === bn ? (av < bv ? -1 : av > bv ? 1 : 0) : an < bn ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}
