import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

const MODULE = 'helm.sh/helm/v4';
export const HELM_VERSION = 'v4.3.2';

/**
 * Builds helm into `${cacheDir}/bin` from the Go module proxy unless the pinned version is already there,
 * as deploy/s3 does for versitygw. Concurrent builds are harmless: each goes to its own GOBIN and the last
 * rename wins with an identical binary.
 */
export async function ensureHelmBinary(cacheDir: string): Promise<string> {
  const binDir = join(cacheDir, 'bin');
  const binary = join(binDir, 'helm');
  if (await hasPinnedVersion(binary)) return binary;
  await mkdir(binDir, { recursive: true });
  const gobin = await mkdtemp(join(binDir, '.helm-build-'));
  try {
    const go = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
    // `go install` leaves the version at its major.minor; stamping the full one lets a new pin rebuild.
    const ldflags = `-X ${MODULE}/internal/version.version=${HELM_VERSION}`;
    await run(go, ['install', `-ldflags=${ldflags}`, `${MODULE}/cmd/helm@${HELM_VERSION}`], {
      env: { ...process.env, GOBIN: gobin },
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: Error & { stderr?: string }) => {
      throw new Error(`go install helm@${HELM_VERSION} failed: ${error.stderr ?? error.message}`);
    });
    await rename(join(gobin, 'helm'), binary);
  } finally {
    await rm(gobin, { recursive: true, force: true });
  }
  return binary;
}

async function hasPinnedVersion(binary: string): Promise<boolean> {
  if (!existsSync(binary)) return false;
  const version = await run(binary, ['version', '--template', '{{.Version}}']).then(
    (result) => result.stdout.trim(),
    () => undefined,
  );
  return version === HELM_VERSION;
}
