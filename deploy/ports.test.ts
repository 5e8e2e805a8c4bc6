import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { freePort, portIsFree } from './ports.ts';

test('free ports lie outside the range outgoing connections draw from, so no client socket can take one first', async (t) => {
  const range = await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').catch(() => undefined);
  if (range === undefined) return t.skip('no /proc port range on this system');
  const [low, high] = range.trim().split(/\s+/).map(Number) as [number, number];
  const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()));
  for (const port of ports) assert.ok(port < low || port > high, `${port} is inside ${low}-${high}`);
  assert.equal(new Set(ports).size, ports.length, 'never the same port twice');
  for (const port of ports.slice(0, 5)) assert.ok(await portIsFree('127.0.0.1', port));
});

test('a port someone holds is reported taken', async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  assert.equal(await portIsFree('127.0.0.1', port), false);
  await new Promise((resolve) => server.close(resolve));
});
