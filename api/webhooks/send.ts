import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { AppError } from '../../contracts/errors.ts';
import { checkAddresses, hostOf, parseEndpointUrl } from './endpoint-url.ts';

export interface SendOutcome {
  statusCode: number | null;
  latencyMs: number;
  /** The first KiB of the response body, as text. */
  excerpt: string | null;
  error: string | null;
}

const excerptBytes = 1024;
/** Once the status line is in, the excerpt gets at most this long: the status decided the attempt. */
const bodyDeadlineMs = 2000;

/**
 * One POST. The host is resolved once, every address it resolves to is checked, and the connection goes to
 * a checked address (the lookup hands the socket exactly what it checked), so a DNS answer that changes
 * between the check and the connect (rebinding) cannot reach a private address. Redirects are not
 * followed: a 3xx is a failed attempt like any other non-2xx. The status line decides: a body that dribbles
 * after it is read up to the excerpt's size or a short deadline, and never turns an answer into a timeout.
 */
export async function postWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  options: { timeoutMs: number; allowPrivateNetworks: boolean },
): Promise<SendOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = parseEndpointUrl(rawUrl);
    if (!options.allowPrivateNetworks) checkAddresses(hostOf(url), literalAddresses(url));
  } catch (error) {
    return { statusCode: null, latencyMs: 0, excerpt: null, error: (error as Error).message };
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<SendOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<SendOutcome, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...outcome, latencyMs: elapsed() });
    };
    const req = request(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'mediagate-webhooks/1',
        },
        agent: false,
        lookup: options.allowPrivateNetworks ? undefined : checkedLookup,
      },
      (res) => {
        clearTimeout(timer);
        readExcerpt(res, Math.min(bodyDeadlineMs, options.timeoutMs)).then((excerpt) =>
          finish({ statusCode: res.statusCode ?? null, excerpt, error: null }),
        );
      },
    );
    const timer = setTimeout(
      () => finish({ statusCode: null, excerpt: null, error: `no response within ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    req.on('error', (error) => finish({ statusCode: null, excerpt: null, error: describe(error) }));
    req.end(body);
  });
}

/** An IP literal is never looked up by the socket, so it is checked here. */
function literalAddresses(url: URL): string[] {
  const host = hostOf(url);
  return /^[\d.]+$|:/.test(host) ? [host] : [];
}

const checkedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error, '', 0);
    try {
      checkAddresses(
        hostname,
        addresses.map((a) => a.address),
      );
    } catch (refusal) {
      return callback(refusal as Error, '', 0);
    }
    const first = addresses[0] as LookupAddress;
    if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, first.address, first.family);
  });
};

function readExcerpt(res: IncomingMessage, deadlineMs: number): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cutOff = setTimeout(() => done(), deadlineMs);
    const done = () => {
      clearTimeout(cutOff);
      resolve(Buffer.concat(chunks).subarray(0, excerptBytes).toString('utf8'));
    };
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= excerptBytes) done();
    });
    res.on('end', done);
    res.on('error', done);
    res.on('aborted', done);
  });
}

function describe(error: Error & { code?: string }): string {
  if (error instanceof AppError) return error.message;
  return error.code ? `${error.code}: ${error.message}` : error.message;
}
