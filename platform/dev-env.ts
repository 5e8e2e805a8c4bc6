import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/**
 * `mediagate dev` writes the settings of the stack it started to `<DATA_DIR>/dev.env`, so other commands
 * in other shells (`token`, `upload`, a second `worker`) reach the same stack without any setup.
 */
export function devEnvPath(dataDir: string): string {
  return join(dataDir, 'dev.env');
}

export function readDevEnv(env: Record<string, string | undefined>): Record<string, string> {
  const path = devEnvPath(resolve(env.DATA_DIR ?? './.mediagate'));
  if (!existsSync(path)) return {};
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

export async function writeDevEnv(dataDir: string, values: Record<string, string>): Promise<void> {
  const body = Object.entries(values).map(([k, v]) => `${k}=${v}`);
  await writeFile(devEnvPath(dataDir), `# written by mediagate dev\n${body.join('\n')}\n`, { mode: 0o600 });
}
