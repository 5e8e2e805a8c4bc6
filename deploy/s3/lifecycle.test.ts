import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CreateMultipartUploadCommand,
  GetBucketLifecycleConfigurationCommand,
  ListPartsCommand,
  PutBucketLifecycleConfigurationCommand,
} from '@aws-sdk/client-s3';
import { BUCKET, credentials, s3Error, useServer } from './embedded/server-harness.ts';
import { abortRuleId, applyUploadLifecycle } from './lifecycle.ts';

const h = useServer();
const s3 = () => ({
  endpoint: h.s3.endpoint,
  region: 'us-east-1',
  bucket: BUCKET,
  forcePathStyle: true,
  ...credentials,
});

test('the rule is applied beside existing rules, re-applying replaces it, and storage aborts stale uploads', async () => {
  await h.client.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: BUCKET,
      LifecycleConfiguration: {
        Rules: [
          { ID: 'someone-else', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } },
        ],
      },
    }),
  );
  await applyUploadLifecycle(s3(), 5);
  await applyUploadLifecycle(s3());
  const { Rules } = await h.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: BUCKET }));
  assert.deepEqual(Rules?.map((r) => r.ID).sort(), [abortRuleId, 'someone-else']);
  const ours = Rules?.find((r) => r.ID === abortRuleId);
  assert.equal(ours?.AbortIncompleteMultipartUpload?.DaysAfterInitiation, 2);

  const abandoned = await h.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'raw/x/y' }));
  assert.equal(await h.s3.sweepLifecycle(new Date(Date.now() + 86_400_000)), 0, 'one day is not enough');
  assert.equal(await h.s3.sweepLifecycle(new Date(Date.now() + 3 * 86_400_000)), 1);
  await assert.rejects(
    h.client.send(new ListPartsCommand({ Bucket: BUCKET, Key: 'raw/x/y', UploadId: abandoned.UploadId })),
    s3Error('NoSuchUpload', 404),
  );
});
