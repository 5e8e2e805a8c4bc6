// Prebuilds helm so CI pays the Go build once, before the tests start.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureHelmBinary, HELM_VERSION } from './helm-binary.ts';

const started = performance.now();
const binary = await ensureHelmBinary(join(homedir(), '.cache', 'mediagate'));
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`helm ${HELM_VERSION} ready at ${binary} (${seconds} s)`);
