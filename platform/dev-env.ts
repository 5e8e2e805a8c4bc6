import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * `mediagate dev` keeps what it generated and chose in `<DATA_DIR>/dev.env`: its secrets and the ports of
 * its embedded servers, so that its next start comes back on the same data with the same tokens. `token`
 * and `upload`, run in other shells, read the few settings they need from it (the JWT secret and where
 * the API listens). No other command reads it: a role takes its settings from the environment alone, so
 * a leftover file can never point one at a database nobody configured.
 */
export interface DevState {
  jwtSecret: string;
  s3AccessKeyId: string;
  s3SecretAccessKey: string;
  postgresPort?: number;
  s3Port?: number;
  host: string;
  apiPort: number;
  edgePort: number;
}

export function devEnvPath(dataDir: string): string {
  return join(dataDir, 'dev.env');
}

function readLines(dataDir: string): Map<string, string> {
  const path = devEnvPath(dataDir);
  const values = new Map<string, string>();
  if (!existsSync(path)) return values;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && !line.startsWith('#')) values.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return values;
}

const port = (raw: string | undefined) => (raw && /^\d{1,5}$/.test(raw) ? Number(raw) : undefined);

/** What the previous `mediagate dev` in this DATA_DIR generated; empty on a first start. */
export function readDevState(dataDir: string): Partial<DevState> {
  const values = readLines(dataDir);
  return {
    jwtSecret: values.get('JWT_SECRET') || undefined,
    s3AccessKeyId: values.get('DEV_S3_ACCESS_KEY_ID') || undefined,
    s3SecretAccessKey: values.get('DEV_S3_SECRET_ACCESS_KEY') || undefined,
    postgresPort: port(values.get('DEV_POSTGRES_PORT')),
    s3Port: port(values.get('DEV_S3_PORT')),
  };
}

export async function writeDevState(dataDir: string, state: DevState): Promise<void> {
  const lines = [
    '# written by `mediagate dev`: its secrets and ports, reused by its next start; `token` and `upload` read',
    '# JWT_SECRET, HOST and API_PORT from here. Other commands ignore this file.',
    `JWT_SECRET=${state.jwtSecret}`,
    `HOST=${state.host}`,
    `API_PORT=${state.apiPort}`,
    `EDGE_PORT=${state.edgePort}`,
    `DEV_POSTGRES_PORT=${state.postgresPort ?? ''}`,
    `DEV_S3_PORT=${state.s3Port ?? ''}`,
    `DEV_S3_ACCESS_KEY_ID=${state.s3AccessKeyId}`,
    `DEV_S3_SECRET_ACCESS_KEY=${state.s3SecretAccessKey}`,
  ];
  await writeFile(devEnvPath(dataDir), `${lines.join('\n')}\n`, { mode: 0o600 });
}

/** The settings `token` and `upload` take from a running `mediagate dev`, as environment variables. */
export function devClientSettings(dataDir: string): Record<string, string> {
  const values = readLines(dataDir);
  const settings: Record<string, string> = {};
  for (const name of ['JWT_SECRET', 'HOST', 'API_PORT']) {
    const value = values.get(name);
    if (value) settings[name] = value;
  }
  return settings;
}
