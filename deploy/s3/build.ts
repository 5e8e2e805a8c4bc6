// Prebuilds the S3 test server so CI pays the Go build once, before the tests start.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensureS3ServerBinary, VERSITYGW_VERSION } from './s3-server.ts';

const started = performance.now();
const binary = await ensureS3ServerBinary(join(homedir(), '.cache', 'mediagate'));
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(`versitygw ${VERSITYGW_VERSION} ready at ${binary} (${seconds} s)`);
