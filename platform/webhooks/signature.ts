import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Moderation vendors sign each webhook in one header:
 *
 *   X-Mediagate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
 *
 * The timestamp travels inside the signed header (as Stripe does) rather than in a second header, so a
 * proxy cannot drop or rewrite one without breaking the other. The raw body must be the exact bytes
 * received, before any JSON parsing. Several v1 entries may be sent (a vendor rolling its secret); one
 * match is enough.
 */
export const signatureHeader = 'x-mediagate-signature';

export type WebhookVerification =
  | { ok: true }
  | { ok: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

export interface VerifyWebhookInput {
  secret: string;
  /** The X-Mediagate-Signature value as received; a repeated header is malformed. */
  signatureHeader: string | string[] | undefined;
  rawBody: string | Buffer;
  nowSeconds?: number;
  /** How far the timestamp may be from now, either way; bounds how long a captured request can be replayed. */
  toleranceSeconds?: number;
}

export function signWebhook(secret: string, timestamp: number, body: string | Buffer): string {
  return `t=${timestamp},v1=${hmac(secret, String(timestamp), body).toString('hex')}`;
}

export function verifyWebhook(input: VerifyWebhookInput): WebhookVerification {
  const header = input.signatureHeader;
  if (header === undefined || header === '') return { ok: false, reason: 'missing' };
  if (typeof header !== 'string') return { ok: false, reason: 'malformed' };
  const parsed = parse(header);
  if (!parsed) return { ok: false, reason: 'malformed' };

  const now = input.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - parsed.timestamp) > (input.toleranceSeconds ?? 300))
    return { ok: false, reason: 'stale' };

  const expected = hmac(input.secret, String(parsed.timestamp), input.rawBody);
  // Both sides are 32 bytes (the parser accepts only 64 hex digits), as timingSafeEqual requires.
  const matches = parsed.signatures.some((signature) => timingSafeEqual(signature, expected));
  return matches ? { ok: true } : { ok: false, reason: 'mismatch' };
}

function hmac(secret: string, timestamp: string, body: string | Buffer): Buffer {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
}

function parse(header: string): { timestamp: number; signatures: Buffer[] } | undefined {
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const [key, value = ''] = part.trim().split('=', 2);
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return undefined;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/i.test(value)) return undefined;
      signatures.push(Buffer.from(value, 'hex'));
    }
    // Other keys are future schemes (v2=…): ignored, so vendors can add them without breaking us.
  }
  return timestamp === undefined || signatures.length === 0 ? undefined : { timestamp, signatures };
}
