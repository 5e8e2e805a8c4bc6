import type { Config } from '../config.ts';
import type { CallbackClaim } from './callback-token.ts';
import {
  sightengineDefaultBaseUrl,
  sightengineDefaultModels,
  sightengineDefaultThresholds,
} from './sightengine.ts';
import {
  callbackUrlFor,
  createSightengineVideoClient,
  type SightengineVideoClient,
} from './sightengine-video.ts';
import type { Thresholds } from './thresholds.ts';

/** Everything the asynchronous video path needs, from the one configuration object. */
export interface AsyncVideoModeration {
  client: SightengineVideoClient;
  thresholds: Thresholds;
  /** Signs callback tokens: MODERATION_WEBHOOK_SECRET, which also guards the generic webhook. */
  secret: string;
  /** Videos at least this long (by the gate's probe) are judged asynchronously. */
  minSeconds: number;
  /** How long the vendor's presigned GET lives: its queue and processing window. */
  urlTtlSeconds: number;
  /** A job pending longer than this is re-polled at the vendor's status endpoint. */
  repollAfterSeconds: number;
  callbackUrl(claim: CallbackClaim): string;
}

/**
 * Undefined when the path is off (no Sightengine, or MODERATION_ASYNC_MIN_SECONDS unset); a configuration
 * that turns it on without a way for the vendor to call back is refused at start.
 */
export function asyncVideoModeration(config: Config['moderation']): AsyncVideoModeration | undefined {
  const { minSeconds, callbackBaseUrl, urlTtlSeconds, repollAfterSeconds } = config.async;
  if (config.vendor !== 'sightengine' || minSeconds === undefined) return undefined;
  const { apiUser, apiSecret, baseUrl } = config.sightengine;
  if (!apiUser || !apiSecret)
    throw new Error('Missing configuration: SIGHTENGINE_API_USER and SIGHTENGINE_API_SECRET');
  if (!callbackBaseUrl || !config.webhookSecret) {
    throw new Error(
      'Missing configuration: MODERATION_ASYNC_MIN_SECONDS needs MODERATION_CALLBACK_BASE_URL and MODERATION_WEBHOOK_SECRET',
    );
  }
  const secret = config.webhookSecret;
  return {
    client: createSightengineVideoClient({
      apiUser,
      apiSecret,
      baseUrl: baseUrl ?? sightengineDefaultBaseUrl,
      models: sightengineDefaultModels,
      timeoutMs: config.timeoutMs,
    }),
    thresholds: { ...sightengineDefaultThresholds, ...config.thresholds },
    secret,
    minSeconds,
    urlTtlSeconds,
    repollAfterSeconds,
    callbackUrl: (claim) => callbackUrlFor(callbackBaseUrl, secret, claim),
  };
}
