import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { packageName, scratchBundle } from './bundle.ts';

let bundle: Awaited<ReturnType<typeof scratchBundle>>;
before(async () => {
  bundle = await scratchBundle();
});
after(() => bundle.remove());

const STATIC_IMPORT = /^(?:import|export)\s(?:[^;]*?\sfrom\s*)?"([^"]+)";/gm;

/** Packages a module reaches through static imports: what loading it loads, dynamic imports aside. */
function staticPackages(file: string, seen = new Set<string>(), packages = new Set<string>()): Set<string> {
  if (seen.has(file)) return packages;
  seen.add(file);
  for (const [, specifier = ''] of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
    if (specifier.startsWith('.')) staticPackages(resolve(dirname(file), specifier), seen, packages);
    else if (!specifier.startsWith('node:')) packages.add(packageName(specifier));
  }
  return packages;
}

/** Packages `mediagate <command>` loads: the dispatcher's, and those of the chunk the command imports. */
function loadedBy(chunkName: string): Set<string> {
  const dir = join(dirname(bundle.entry), 'chunks');
  const chunk = readdirSync(dir).find((file) => file.startsWith(`${chunkName}-`));
  assert.ok(chunk, `${chunkName} is a chunk of its own`);
  return staticPackages(join(dir, chunk), new Set(), staticPackages(bundle.entry));
}

test('a worker loads neither the HTTP server nor the database layer', () => {
  const packages = loadedBy('worker-role');
  assert.ok(packages.has('sharp'), `the worker holds its image library: ${[...packages]}`);
  for (const absent of ['fastify', 'drizzle-orm'])
    assert.ok(!packages.has(absent), `${absent}: ${[...packages]}`);
});

test('the api loads both; the dispatcher alone loads neither, nor sharp', () => {
  const api = loadedBy('roles');
  assert.ok(api.has('fastify') && api.has('drizzle-orm'), `${[...api]}`);
  const dispatcher = staticPackages(bundle.entry);
  for (const absent of ['fastify', 'drizzle-orm', 'sharp']) assert.ok(!dispatcher.has(absent), absent);
});
