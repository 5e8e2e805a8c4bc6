import { applyUploadLifecycle } from '../deploy/s3/lifecycle.ts';
import type { Config } from '../platform/config.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';

const usage = 'usage: mediagate storage init';

/**
 * `mediagate storage init`: creates S3_BUCKET when missing and puts mediagate's lifecycle rule on it
 * (abandoned multipart uploads are aborted by storage after 2 days). Running it again changes nothing.
 *
 * A command of its own rather than a step of `migrate`: creating buckets and changing their lifecycle takes
 * storage rights the roles should not hold, and a deployment whose bucket is managed elsewhere (Terraform,
 * a cloud console) skips it, while every deployment runs `migrate`.
 */
export async function runStorage(config: Config, args: string[]): Promise<string> {
  if (args[0] !== 'init') throw new Error(usage);
  await initStorage(config.s3);
  return `bucket "${config.s3.bucket}" is ready, with its AbortIncompleteMultipartUpload rule (2 days)`;
}

export async function initStorage(s3: Config['s3']): Promise<void> {
  await createS3Storage(s3).ensureBucket();
  await applyUploadLifecycle(s3);
}
