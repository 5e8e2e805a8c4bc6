import { S3ServiceException } from '@aws-sdk/client-s3';
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
  if (args[0] !== 'init' || args.length > 1) throw new Error(usage);
  const lifecycle = await initStorage(config.s3);
  const bucket = `bucket "${config.s3.bucket}" is ready`;
  if (lifecycle === 'applied') return `${bucket}, with its AbortIncompleteMultipartUpload rule (2 days)`;
  return (
    `${bucket}; this storage has no lifecycle rules, so abandoned uploads are freed only by the API's ` +
    'sweeper (expired sessions are aborted), not by storage itself'
  );
}

export async function initStorage(s3: Config['s3']): Promise<'applied' | 'unsupported'> {
  await createS3Storage(s3).ensureBucket();
  try {
    await applyUploadLifecycle(s3);
    return 'applied';
  } catch (error) {
    // Some S3-compatible servers (Versity's posix backend among them) implement no lifecycle API at all.
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 501) return 'unsupported';
    throw error;
  }
}
