import { isMissingBucket, missingBucketHint } from '../storage/missing-bucket.ts';
import type { ObjectStorage } from '../storage/object-storage.ts';

/** The database answers a trivial query (`select 1` through whichever client the role holds). */
export function databaseProbe(selectOne: () => Promise<unknown>) {
  return async (): Promise<string | undefined> => {
    try {
      await selectOne();
      return undefined;
    } catch (error) {
      return `database unavailable: ${messageOf(error)}`;
    }
  };
}

/** The bucket exists and answers: one listing of a prefix that holds nothing. */
export function storageProbe(storage: ObjectStorage) {
  return async (): Promise<string | undefined> => {
    try {
      for await (const _ of storage.listKeys('.mediagate-readiness/')) break;
      return undefined;
    } catch (error) {
      if (isMissingBucket(error)) return missingBucketHint(storage.bucket);
      return `storage unavailable: ${messageOf(error)}`;
    }
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
