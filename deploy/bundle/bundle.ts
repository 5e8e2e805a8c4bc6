import { chmod, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { packageRoot } from '../../platform/package-root.ts';

/** Where `npm run build` puts the bundle. */
export const distDir = join(packageRoot, 'dist');

export interface Bundle {
  /** The `mediagate` command: run it with node, or directly (it keeps the source's `#!/usr/bin/env node`). */
  entry: string;
  /** Packages the bundle imports at run time; they come from node_modules. */
  packages: string[];
  /** The source files it was built from, relative to the package root. */
  inputs: string[];
}

/**
 * The `mediagate` command as plain JavaScript, for the image and the fleet bench. Node strips types from the
 * sources as it loads them, and the first .ts file costs every process ~25 MB (the stripper's wasm and the
 * modules' source kept twice); the bundle does not. Each command still loads only what it runs: the dynamic
 * imports of bin/mediagate.ts become chunks of their own. Packages stay external, as installed.
 */
export async function bundleCli(outdir: string): Promise<Bundle> {
  const result = await build({
    absWorkingDir: packageRoot,
    entryPoints: { mediagate: 'bin/mediagate.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    packages: 'external',
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    logLevel: 'warning',
  });
  const entry = join(outdir, 'mediagate.js');
  await chmod(entry, 0o755);
  const packages = new Set<string>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const imported of output.imports) {
      if (imported.external && !imported.path.startsWith('node:')) packages.add(packageName(imported.path));
    }
  }
  return { entry, packages: [...packages].sort(), inputs: Object.keys(result.metafile.inputs).sort() };
}

/** The package an import specifier names: `@scope/name` or `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/**
 * A bundle in a fresh folder for a test, inside the package so that its packages resolve from node_modules as
 * in the image; `remove()` deletes it.
 */
export async function scratchBundle(): Promise<Bundle & { remove(): Promise<void> }> {
  await mkdir(join(packageRoot, '.artifacts'), { recursive: true });
  const dir = await mkdtemp(join(packageRoot, '.artifacts', 'bundle-'));
  return { ...(await bundleCli(dir)), remove: () => rm(dir, { recursive: true, force: true }) };
}
