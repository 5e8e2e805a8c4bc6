import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';

/**
 * Streams an object to a local file and hashes it on the way: one pass, constant memory. `signal` (the
 * job's shutdown) cancels the request and closes the file; either way every stream is closed before this
 * settles, so the caller may remove the directory.
 */
export async function downloadAndHash(
  storage: ObjectStorage,
  key: string,
  path: string,
  signal?: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(await storage.getStream(key, { signal }), tap, createWriteStream(path), { signal });
  return { sha256: hash.digest('hex'), bytes };
}
