import { isIPv4, isIPv6 } from 'node:net';

/**
 * Which addresses a webhook may never reach (SSRF): anything that is not the public internet. Returns the
 * class of a refused address, or null for a public one (the IANA IPv4 and IPv6 special-purpose registries).
 * IPv6 forms that carry an IPv4 address (mapped, translated, NAT64 /96, 6to4) are judged by the address they
 * carry.
 */
export function forbiddenAddressClass(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (isIPv4(bare)) return ipv4Class(ipv4Octets(bare));
  if (isIPv6(bare)) return ipv6Class(ipv6Words(bare));
  return 'not an IP address';
}

type Range = [first: number, bits: number, name: string];

const ipv4Ranges: Range[] = [
  [0x00000000, 8, 'this network'],
  [0x0a000000, 8, 'private'],
  [0x64400000, 10, 'carrier-grade NAT'],
  [0x7f000000, 8, 'loopback'],
  [0xa9fe0000, 16, 'link-local (cloud metadata)'],
  [0xac100000, 12, 'private'],
  [0xc0000000, 24, 'IETF protocol assignments'],
  [0xc0000200, 24, 'documentation'],
  [0xc0586300, 24, '6to4 relay anycast'],
  [0xc0a80000, 16, 'private'],
  [0xc6120000, 15, 'benchmarking'],
  [0xc6336400, 24, 'documentation'],
  [0xcb007100, 24, 'documentation'],
  [0xe0000000, 4, 'multicast'],
  [0xf0000000, 4, 'reserved'],
];

function ipv4Octets(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function ipv4Class(value: number): string | null {
  for (const [first, bits, name] of ipv4Ranges) {
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    if ((value & mask) >>> 0 === first) return name;
  }
  return null;
}

/** Eight 16-bit words; a dotted IPv4 tail becomes the last two. */
function ipv6Words(address: string): number[] {
  let text = address.toLowerCase();
  const tail = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (tail?.[1]) {
    const v4 = ipv4Octets(tail[1]);
    text = `${text.slice(0, -tail[1].length)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((w) => Number.parseInt(w, 16));
}

/**
 * Allow-list: only global unicast 2000::/3 passes, minus its special-purpose ranges (IANA IPv6 registry).
 * Prefixes that carry an IPv4 address in their last 32 bits (RFC 6052 /96 forms, mapped, SIIT) are judged
 * by that address; the local-use NAT64 /48 embeds it at a length-dependent offset, so all of it is refused.
 */
function ipv6Class(w: number[]): string | null {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0] = w;
  const embedded = ((g << 16) | h) >>> 0;
  const carried = (label: string, v4: number) => {
    const name = ipv4Class(v4);
    return name && `${label} ${name}`;
  };
  if (a === 0 && b === 0 && c === 0 && d === 0) {
    if (e === 0 && f === 0xffff) return carried('IPv4-mapped', embedded);
    if (e === 0xffff && f === 0) return carried('IPv4-translated', embedded);
    if (e === 0 && f === 0 && g === 0 && h <= 1) return h === 1 ? 'loopback' : 'unspecified';
  }
  if (a === 0x64 && b === 0xff9b) {
    if (c === 0 && d === 0 && e === 0 && f === 0) return carried('NAT64', embedded);
    if (c === 1) return 'local-use NAT64';
  }
  if ((a & 0xe000) !== 0x2000) return ipv6Outside(a);
  if (a === 0x2002) return carried('6to4', ((b << 16) | c) >>> 0);
  if (a === 0x2001 && b === 0x0db8) return 'documentation';
  if (a === 0x3fff && b < 0x1000) return 'documentation';
  if (a === 0x2001 && b < 0x0200) return 'IETF protocol assignments';
  return null;
}

/** Outside 2000::/3 nothing is the public internet; the name only makes the refusal readable. */
function ipv6Outside(a: number): string {
  if ((a & 0xfe00) === 0xfc00) return 'unique local';
  if ((a & 0xffc0) === 0xfe80) return 'link-local';
  if ((a & 0xffc0) === 0xfec0) return 'site-local';
  if ((a & 0xff00) === 0xff00) return 'multicast';
  if (a === 0x0100) return 'discard';
  if (a === 0x5f00) return 'SRv6 SIDs';
  if (a === 0) return 'IPv4-compatible (deprecated)';
  return 'not global unicast';
}
