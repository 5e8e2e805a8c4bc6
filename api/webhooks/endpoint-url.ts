import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { AppError } from '../../contracts/errors.ts';
import { forbiddenAddressClass } from './address-policy.ts';

/**
 * The SSRF rule at registration (and for every attempt, through `checkAddresses` in the pinned lookup): an
 * http(s) URL without credentials whose host resolves only to public addresses, unless private networks
 * are allowed. WHATWG URL parsing canonicalises the host first, so `2130706433`, `0177.0.0.1` and `0x7f.1`
 * are all judged as the 127.0.0.1 they mean.
 */
export function parseEndpointUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new AppError('webhook_url_invalid', 'The URL cannot be parsed');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new AppError('webhook_url_invalid', `The scheme ${url.protocol} is not http or https`);
  if (url.username || url.password)
    throw new AppError('webhook_url_invalid', 'The URL carries credentials: put secrets in the path');
  if (!url.hostname) throw new AppError('webhook_url_invalid', 'The URL has no host');
  if (url.port === '0') throw new AppError('webhook_url_invalid', 'Port 0 cannot be connected to');
  return url;
}

export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Throws `webhook_url_forbidden` naming the first refused address and its class. */
export function checkAddresses(host: string, addresses: string[]): void {
  for (const address of addresses) {
    const refused = forbiddenAddressClass(address);
    if (refused)
      throw new AppError(
        'webhook_url_forbidden',
        `${host === address ? host : `${host} resolves to ${address}`} (${refused}): webhooks may not reach it unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true`,
      );
  }
}

export async function resolveHost(host: string): Promise<string[]> {
  if (isIP(host)) return [host];
  try {
    return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw new AppError('webhook_url_unresolvable', `${host} does not resolve`);
  }
}

/** Registration and update: the URL must be one the dispatcher would send to. */
export async function vetEndpointUrl(raw: string, allowPrivateNetworks: boolean): Promise<string> {
  const url = parseEndpointUrl(raw);
  if (!allowPrivateNetworks) {
    const host = hostOf(url);
    checkAddresses(host, await resolveHost(host));
  }
  return url.href;
}
