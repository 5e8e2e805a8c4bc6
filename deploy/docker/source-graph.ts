import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export interface SourceGraph {
  /** Repository-relative paths of every source file reached. */
  files: string[];
  /** Packages imported for their values (type-only imports are erased by type stripping and need nothing). */
  packages: string[];
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?'([^']+)'/g;
const DYNAMIC_IMPORT = /\bimport\(\s*'([^']+)'\s*\)/g;

/** Follows the relative imports from `entry` (repository-relative) through the repository at `root`. */
export function sourceGraph(root: string, entry: string): SourceGraph {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(join(root, file), 'utf8');
    const specifiers = [
      ...[...text.matchAll(IMPORT)].filter((m) => !m[1]).map((m) => m[2] as string),
      ...[...text.matchAll(DYNAMIC_IMPORT)].map((m) => m[1] as string),
    ];
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) visit(relative(root, resolve(root, dirname(file), specifier)));
      else if (!specifier.startsWith('node:')) packages.add(packageName(specifier));
    }
  };
  visit(entry);
  return { files: [...files].sort(), packages: [...packages].sort() };
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}
