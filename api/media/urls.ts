import { edgeUrlFor } from '../../contracts/object-keys.ts';
import { signUrlToken, viewTokenExpiry } from '../../platform/auth/url-token.ts';
import type { Config } from '../../platform/config.ts';

export function edgeUrl(config: Pick<Config, 'edgePublicUrl'>, objectKey: string): string {
  return edgeUrlFor(config.edgePublicUrl, objectKey);
}

/**
 * URLs handed to a viewer. Private media carry a short-lived token bound to the key (not to the viewer),
 * so they work in `<img>`/`<video>` tags, which send no Authorization header: whoever holds the URL may
 * read that one key until the token expires (at most EDGE_VIEW_TOKEN_TTL_SECONDS), like a presigned storage URL.
 * `sub` names who it was issued to, for logs and for the playlist tokens the edge derives from it; the
 * edge cannot check it against the reader, because a tag carries no identity. Public media get the plain,
 * cacheable edge URL.
 */
export function viewerUrlFactory(
  config: Config,
  viewer: string,
  isPublic: boolean,
): (objectKey: string) => string {
  const secret = config.auth.urlSigningSecret;
  if (isPublic || !secret) return (key) => edgeUrl(config, key);
  const exp = viewTokenExpiry(config.edge.viewTokenTtlSeconds);
  return (key) => `${edgeUrl(config, key)}?token=${signUrlToken(secret, { key, sub: viewer, exp })}`;
}
