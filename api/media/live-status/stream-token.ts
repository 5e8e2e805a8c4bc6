import { AppError } from '../../../contracts/errors.ts';
import type { LiveStatusToken } from '../../../contracts/media-events.ts';
import { signUrlToken, verifyUrlToken } from '../../../platform/auth/url-token.ts';
import type { Config } from '../../../platform/config.ts';
import type { Watcher } from './access.ts';

/**
 * A browser's EventSource cannot send an Authorization header, so a client that holds a Bearer token asks
 * for a stream token and opens `…/events?token=`: an HMAC capability (platform/auth/url-token.ts, the
 * edge's format) for following this one media, nothing else, until it expires. It stays valid across the
 * EventSource's own reconnects for LIVE_STATUS_TOKEN_TTL_SECONDS.
 */
const keyOf = (mediaId: string) => `live-status:${mediaId}`;

export function issueStreamToken(config: Config, sub: string, mediaId: string): LiveStatusToken {
  const secret = streamSecret(config);
  const exp = Math.floor(Date.now() / 1000) + config.liveStatus.tokenTtlSeconds;
  const token = signUrlToken(secret, { key: keyOf(mediaId), sub, exp });
  return {
    token,
    url: `/v1/media/${mediaId}/events?token=${encodeURIComponent(token)}`,
    expiresAt: new Date(exp * 1000).toISOString(),
  };
}

export function streamTokenWatcher(config: Config, token: string | undefined, mediaId: string): Watcher {
  if (token === undefined)
    throw new AppError('unauthenticated', 'Send Authorization: Bearer <token> or ?token=');
  const check = verifyUrlToken(streamSecret(config), token, keyOf(mediaId), Math.floor(Date.now() / 1000));
  if (!check.ok) {
    throw check.reason === 'expired'
      ? new AppError('token_expired', 'The stream token has expired: ask for a new one')
      : new AppError('unauthenticated', 'The stream token is not valid for this media');
  }
  return { principal: { sub: check.grant.sub, roles: [] }, by: 'stream-token' };
}

function streamSecret(config: Config): string {
  const secret = config.auth.urlSigningSecret;
  if (!secret) throw new AppError('forbidden', 'Stream tokens need URL_SIGNING_SECRET on the API');
  return secret;
}
