import { isAxiosError } from 'axios';
import { ModerationVendorError } from './moderation.ts';

/**
 * Turns what axios threw into a ModerationVendorError that says whether trying again can help. `detail`
 * pulls the vendor's own explanation out of an error body. Anything that is not an HTTP failure (a bug)
 * is returned unchanged.
 */
export function toVendorError(
  vendor: string,
  error: unknown,
  detail?: (body: unknown) => string | undefined,
): unknown {
  if (error instanceof ModerationVendorError || !isAxiosError(error)) return error;
  const response = error.response;
  if (!response) {
    return new ModerationVendorError(vendor, `${error.code ?? 'network error'}: ${error.message}`, {
      retryable: true,
      cause: error,
    });
  }
  const status = response.status;
  const explained = detail?.(response.data);
  return new ModerationVendorError(vendor, `HTTP ${status}${explained ? `: ${explained}` : ''}`, {
    retryable: status === 408 || status === 429 || status >= 500,
    status,
    retryAfterSeconds: parseRetryAfter(response.headers['retry-after']),
    cause: error,
  });
}

/** Retry-After is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: unknown, nowMs = Date.now()): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - nowMs) / 1000));
}
