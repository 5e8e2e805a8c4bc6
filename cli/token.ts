import { signDevToken } from '../platform/auth/jwt.ts';
import { type Config, requireSetting } from '../platform/config.ts';
import { flag, option } from './args.ts';

/** `mediagate token --sub ID [--admin] [--ttl SECONDS]`: a token signed with JWT_SECRET, for local use. */
export function runToken(config: Config, args: string[]): string {
  const sub = option(args, '--sub');
  if (!sub) throw new Error('usage: mediagate token --sub USER_ID [--admin] [--ttl SECONDS]');
  const ttl = Number(option(args, '--ttl') ?? 24 * 3600);
  const secret = requireSetting(config.auth.jwtSecret, 'JWT_SECRET');
  return signDevToken(secret, { sub, roles: flag(args, '--admin') ? ['admin'] : [] }, ttl);
}
