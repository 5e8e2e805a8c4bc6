import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../platform/config.ts';
import type { DeployedRole } from '../role-env.ts';
import { ensureHelmBinary } from './helm-binary.ts';

const run = promisify(execFile);

export const chartDir = fileURLToPath(new URL('./mediagate', import.meta.url));

// biome-ignore lint/suspicious/noExplicitAny: rendered Kubernetes objects are checked field by field.
export type Manifest = Record<string, any>;

export interface RoleContainer {
  /** `Deployment/rel-mediagate-api/api` */
  where: string;
  role: DeployedRole;
  workload: Manifest;
  container: Manifest;
  /** The environment the container starts with, secrets resolved from the rendered Secret. */
  env: Record<string, string>;
}

export function helm(): Promise<string> {
  return ensureHelmBinary(loadConfig().cacheDir);
}

/** `helm <args>` with `values` as a values file; stdout, or the command's own words on failure. */
export async function helmWithValues(args: string[], values: object = {}): Promise<string> {
  const binary = await helm();
  const dir = await mkdtemp(join(tmpdir(), 'mediagate-helm-'));
  try {
    const file = join(dir, 'values.json');
    await writeFile(file, JSON.stringify(values));
    const { stdout } = await run(binary, [...args, chartDir, '-f', file], { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`helm ${args.join(' ')} failed:\n${stdout}${stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function renderChart(values: object): Promise<Manifest[]> {
  const text = await helmWithValues(['template', 'rel'], values);
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((doc): doc is Manifest => doc !== null);
}

/** Every container of every Deployment and Job, with the role its arguments start. */
export function roleContainers(manifests: Manifest[]): RoleContainer[] {
  const secrets = new Map(
    manifests.filter((m) => m.kind === 'Secret').map((m) => [m.metadata.name, m.stringData ?? {}]),
  );
  return manifests
    .filter((m) => m.kind === 'Deployment' || m.kind === 'Job')
    .flatMap((workload) => {
      const spec = workload.spec.template.spec;
      return [...(spec.initContainers ?? []), ...spec.containers].map((container: Manifest) => ({
        where: `${workload.kind}/${workload.metadata.name}/${container.name}`,
        role: container.args[0] as DeployedRole,
        workload,
        container,
        env: resolveEnv(container, secrets),
      }));
    });
}

function resolveEnv(
  container: Manifest,
  secrets: Map<string, Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of container.env ?? []) {
    if (entry.name in env) throw new Error(`${container.name} sets ${entry.name} twice`);
    const ref = entry.valueFrom?.secretKeyRef;
    if (!ref) {
      env[entry.name] = String(entry.value);
      continue;
    }
    const value = secrets.get(ref.name)?.[ref.key];
    if (value !== undefined) env[entry.name] = value;
    else if (!ref.optional) throw new Error(`${container.name}: ${entry.name} needs ${ref.name}/${ref.key}`);
  }
  return env;
}

/** The port number a probe or Service names, by name or number, on `container`. */
export function containerPort(container: Manifest, port: string | number): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((p: Manifest) => p.name === port)?.containerPort;
}
