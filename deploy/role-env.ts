import { configVariables, loadConfig } from '../platform/config.ts';

export type DeployedRole = 'api' | 'worker' | 'edge' | 'migrate' | 'storage';

/**
 * What each role cannot run without in a deployment (a list inside the list: any one of them). The roles
 * fail fast without the first ones (cli/roles.ts, platform/bus/create-bus.ts); the others have defaults
 * that are only right on a developer's machine: HOST (loopback, unreachable from a probe or a Service),
 * KAFKA_BROKERS (without it each process gets its own embedded bus, so the fleet would not share work),
 * EDGE_PUBLIC_URL (media URLs would point at the API's own listen address).
 */
export const requiredByRole: Record<DeployedRole, (string | string[])[]> = {
  api: [
    'DATABASE_URL',
    'KAFKA_BROKERS',
    ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWKS_URL'],
    'S3_BUCKET',
    'HOST',
    'EDGE_PUBLIC_URL',
  ],
  edge: ['DATABASE_URL', ['JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWKS_URL'], 'S3_BUCKET', 'HOST'],
  worker: ['KAFKA_BROKERS', 'S3_BUCKET', 'HOST'],
  migrate: ['DATABASE_URL'],
  storage: ['S3_BUCKET'],
};

/** Names in `env` that no part of the configuration reads: a typo, or a setting that was removed. */
export function unknownVariables(env: Record<string, string>): string[] {
  const accepted = new Set(configVariables());
  return Object.keys(env).filter((name) => !accepted.has(name));
}

export function missingRequired(role: DeployedRole, env: Record<string, string>): string[] {
  const set = (name: string) => env[name] !== undefined && env[name] !== '';
  return requiredByRole[role]
    .filter((need) => (Array.isArray(need) ? !need.some(set) : !set(need)))
    .map((need) => (Array.isArray(need) ? need.join(' | ') : need));
}

/** Every problem with the environment a manifest gives one role, as sentences; empty when it can run. */
export function roleEnvProblems(where: string, role: DeployedRole, env: Record<string, string>): string[] {
  const problems = [
    ...unknownVariables(env).map((name) => `${where}: ${name} is not a setting mediagate reads`),
    ...missingRequired(role, env).map((name) => `${where}: the ${role} role needs ${name}`),
  ];
  try {
    loadConfig(env);
  } catch (error) {
    problems.push(`${where}: ${(error as Error).message}`);
  }
  return problems;
}
