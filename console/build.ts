import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { build } from 'esbuild';
import { packageRoot } from '../platform/package-root.ts';

export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /** Hashed names never change content: browsers may keep them for ever. */
  immutable: boolean;
}

const here = join(packageRoot, 'console');
const types: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

/**
 * Bundles the console in memory (no files written, nothing to build by hand): one hashed script and one
 * hashed stylesheet, and the page naming them. esbuild's output depends only on the sources, so every
 * instance of the API serves the same names.
 */
export async function buildConsole(): Promise<Map<string, ConsoleAsset>> {
  const result = await build({
    entryPoints: { app: join(here, 'src/main.js') },
    bundle: true,
    format: 'esm',
    minify: true,
    target: 'es2022',
    write: false,
    outdir: join(here, 'out'),
    entryNames: '[name]-[hash]',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const assets = new Map<string, ConsoleAsset>();
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    const type = types[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
    assets.set(name, { body: Buffer.from(file.contents), contentType: type, immutable: true });
  }
  const script = [...assets.keys()].find((n) => n.endsWith('.js'));
  const style = [...assets.keys()].find((n) => n.endsWith('.css'));
  const page = (await readFile(join(here, 'src/index.html'), 'utf8'))
    .replace('%SCRIPT%', `./${script}`)
    .replace('%STYLE%', `./${style}`);
  assets.set('index.html', { body: Buffer.from(page), contentType: types['.html'] ?? '', immutable: false });
  return assets;
}

let built: Promise<Map<string, ConsoleAsset>> | undefined;

/** Built on the first request for the console, once per process; a failed build is tried again next time. */
export function consoleAssets(): Promise<Map<string, ConsoleAsset>> {
  built ??= buildConsole().catch((error: unknown) => {
    built = undefined;
    throw error;
  });
  return built;
}
