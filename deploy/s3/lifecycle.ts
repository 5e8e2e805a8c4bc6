import {
  GetBucketLifecycleConfigurationCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { Config } from '../../platform/config.ts';
import { createS3Client } from '../../platform/storage/s3-storage.ts';

/** Our rule's id: re-applying replaces it, and rules others put on the bucket are left as they are. */
export const abortRuleId = 'mediagate-abort-incomplete-uploads';

/**
 * Storage-side backstop for abandoned uploads: a bucket lifecycle rule `AbortIncompleteMultipartUpload`
 * frees the parts of any multipart upload still open `days` after it began (S3 counts from initiation and
 * rounds up to the next midnight UTC). The API already aborts expired sessions itself; this catches the
 * ones it never learns about (a crash between CreateMultipartUpload and the session row). The default of
 * 2 days outlives the 24 h session TTL, so storage never aborts an upload the API still considers open.
 *
 * Applying is idempotent: the bucket's other rules are kept and ours is replaced. Works with AWS S3,
 * MinIO, R2 and the embedded dev server; storage that lacks lifecycle support throws the SDK's error.
 */
export async function applyUploadLifecycle(s3: Config['s3'], days = 2): Promise<void> {
  const client = createS3Client(s3);
  try {
    const others = (await currentRules(client, s3.bucket)).filter((r) => r.ID !== abortRuleId);
    const ours: LifecycleRule = {
      ID: abortRuleId,
      Status: 'Enabled',
      Filter: { Prefix: '' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: days },
    };
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: s3.bucket,
        LifecycleConfiguration: { Rules: [...others, ours] },
      }),
    );
  } finally {
    client.destroy();
  }
}

async function currentRules(client: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    const out = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    return out.Rules ?? [];
  } catch (error) {
    if (error instanceof S3ServiceException && error.name === 'NoSuchLifecycleConfiguration') return [];
    throw error;
  }
}
