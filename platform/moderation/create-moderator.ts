import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { ModerationMetrics } from '../metrics/moderation.ts';
import { allowAllModerator } from './allow-all.ts';
import { asyncVideoModeration } from './async-video.ts';
import { CircuitBreaker } from './circuit-breaker.ts';
import { createGenericHttpModerator } from './generic-http.ts';
import type { Moderator } from './moderation.ts';
import { resilient } from './resilient.ts';
import { createSightengineModerator, sightengineDefaultThresholds } from './sightengine.ts';
import { cachedModerator, type VerdictCache } from './verdict-cache.ts';

/**
 * The configured vendor behind timeouts, jittered retries, a circuit breaker and a verdict cache; or
 * allow-all when no vendor is configured, which the start-up log states plainly.
 */
export function createModerator(
  config: Config['moderation'],
  cache: VerdictCache,
  logger: Logger,
  metrics?: ModerationMetrics,
): Moderator {
  const vendor = vendorOf(config);
  if (!vendor) {
    logger.warn(
      'moderation is OFF: no vendor configured (set MODERATION_URL or SIGHTENGINE_API_USER); all uploads are allowed',
    );
    return allowAllModerator;
  }
  logger.info({ vendor: vendor.name }, 'moderation vendor configured');
  const guarded = resilient(vendor, {
    timeoutMs: config.timeoutMs,
    breaker: new CircuitBreaker(),
    metrics,
  });
  return cachedModerator(guarded, cache, {
    onCacheError: (error) => logger.warn({ err: error }, 'verdict cache failed; asked the vendor'),
  });
}

function vendorOf(config: Config['moderation']): Moderator | undefined {
  if (config.vendor === 'sightengine') {
    const { apiUser, apiSecret, baseUrl } = config.sightengine;
    if (!apiUser || !apiSecret)
      throw new Error('Missing configuration: SIGHTENGINE_API_USER and SIGHTENGINE_API_SECRET');
    const video = asyncVideoModeration(config);
    return createSightengineModerator({
      apiUser,
      apiSecret,
      baseUrl,
      thresholds: { ...sightengineDefaultThresholds, ...config.thresholds },
      video: video && { client: video.client, callbackUrl: video.callbackUrl },
    });
  }
  if (config.vendor === 'http') {
    if (!config.url) throw new Error('Missing configuration: MODERATION_URL');
    return createGenericHttpModerator({
      url: config.url,
      token: config.token,
      thresholds: config.thresholds,
    });
  }
  return undefined;
}

export function isModerationOff(moderator: Moderator): boolean {
  return moderator === allowAllModerator;
}
