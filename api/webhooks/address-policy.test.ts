// The SSRF rule: every address class that is not the public internet is refused, however it is spelled.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../contracts/errors.ts';
import { forbiddenAddressClass } from './address-policy.ts';
import { vetEndpointUrl } from './endpoint-url.ts';

const refused = {
  '127.0.0.1': 'loopback',
  '127.255.0.9': 'loopback',
  '10.1.2.3': 'private',
  '172.16.0.1': 'private',
  '172.31.255.255': 'private',
  '192.168.1.1': 'private',
  '100.64.0.1': 'carrier-grade NAT',
  '169.254.169.254': 'link-local (cloud metadata)',
  '0.0.0.0': 'this network',
  '224.0.0.1': 'multicast',
  '255.255.255.255': 'reserved',
  '::1': 'loopback',
  '::': 'unspecified',
  'fc00::1': 'unique local',
  'fd00:ec2::254': 'unique local',
  'fe80::1%eth0': 'link-local',
  'ff02::1': 'multicast',
  '::ffff:127.0.0.1': 'IPv4-mapped loopback',
  '::ffff:7f00:1': 'IPv4-mapped loopback',
  '::ffff:a9fe:a9fe': 'IPv4-mapped link-local (cloud metadata)',
  '64:ff9b::10.0.0.1': 'NAT64 private',
  '2002:c0a8:0101::1': '6to4 private',
  '2001:db8::1': 'documentation',
  '::ffff:0:7f00:1': 'IPv4-translated loopback',
  '::ffff:0:127.0.0.1': 'IPv4-translated loopback',
  '::ffff:0:a9fe:a9fe': 'IPv4-translated link-local (cloud metadata)',
  '64:ff9b:1::7f00:1': 'local-use NAT64',
  '64:ff9b:1::a9fe:a9fe': 'local-use NAT64',
  '64:ff9b:1:ffff::8.8.8.8': 'local-use NAT64',
  '3fff::1': 'documentation',
  '3fff:fff::1': 'documentation',
  '5f00::1': 'SRv6 SIDs',
  '192.88.99.1': '6to4 relay anycast',
  '2002:c058:6301::1': '6to4 6to4 relay anycast',
  '::7f00:1': 'IPv4-compatible (deprecated)',
  '100::1': 'discard',
  '4000::1': 'not global unicast',
  'e000::1': 'not global unicast',
  '2001::1': 'IETF protocol assignments',
};

test('private, loopback, link-local, CGNAT, ULA, multicast and metadata addresses are refused', () => {
  for (const [address, name] of Object.entries(refused))
    assert.equal(forbiddenAddressClass(address), name, address);
});

test('public addresses pass, IPv6 too, and IPv4 carried in IPv6 is judged by the IPv4', () => {
  for (const address of [
    '93.184.216.34',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '3fff:1000::1',
    '2a00:1450:4001::200e',
  ])
    assert.equal(forbiddenAddressClass(address), null, address);
});

async function codeOf(url: string): Promise<string> {
  try {
    await vetEndpointUrl(url, false);
    return 'accepted';
  } catch (error) {
    assert.ok(error instanceof AppError, String(error));
    return error.code;
  }
}

test('decimal, octal, hex and short IPv4 spellings are judged as the address they mean', async () => {
  for (const url of [
    'http://2130706433/hook',
    'http://0177.0.0.1/hook',
    'http://0x7f.1/hook',
    'http://127.1/hook',
    'http://017700000001/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::1]:8080/',
    'https://169.254.169.254/latest/meta-data',
    'http://0xa9fea9fe/',
    'http://localhost:3000/',
    'http://[::ffff:0:7f00:1]/',
    'http://[::ffff:0:127.0.0.1]/',
    'http://[64:ff9b:1::7f00:1]/',
    'http://[64:ff9b:1::a9fe:a9fe]/',
    'http://[3fff::1]/',
    'http://[5f00::1]/',
    'http://192.88.99.1/',
  ])
    assert.equal(await codeOf(url), 'webhook_url_forbidden', url);
});

test('non-http schemes, credentials and unparseable URLs are invalid; allowing private networks allows them', async () => {
  for (const url of [
    'file:///etc/passwd',
    'gopher://example.com/',
    'ftp://example.com/',
    'http://user:pw@example.com/',
    'not a url',
    'http://93.184.216.34:0/hook',
    'https://example.com:0/',
  ])
    assert.equal(await codeOf(url), 'webhook_url_invalid', url);
  assert.equal(await vetEndpointUrl('http://127.0.0.1:9/x', true), 'http://127.0.0.1:9/x');
  assert.equal(await codeOf('https://93.184.216.34/hook'), 'accepted');
  assert.equal(await codeOf('http://no-such-host.invalid/'), 'webhook_url_unresolvable');
});
