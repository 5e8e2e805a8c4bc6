/**
 * Storage answers `NoSuchBucket` to any request on a bucket that does not exist. No request of a client
 * can fix that, so it is an outage of ours (503 with its own code), never a 500 or a client error.
 */
export function isMissingBucket(error: unknown): boolean {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; depth++) {
    if (current.name === 'NoSuchBucket' || (current as { Code?: unknown }).Code === 'NoSuchBucket')
      return true;
    current = current.cause;
  }
  return false;
}

/** What an operator reads in the log and in `/readyz` when the bucket is missing. */
export function missingBucketHint(bucket: string): string {
  return (
    `storage bucket "${bucket}" does not exist: create it (the README's "Running the roles separately" ` +
    'shows how) or point S3_BUCKET at an existing bucket'
  );
}
