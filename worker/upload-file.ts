import { createReadStream, type ReadStream } from 'node:fs';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';

export interface LocalFile {
  key: string;
  path: string;
  contentType: string;
  bytes: number;
}

/**
 * Uploads a file of the job's temp dir. The SDK pipes the body without listening for its errors, so a read
 * failure (the file removed under it) would be an unhandled 'error' event that ends the process: here it
 * fails this upload instead, and cancels the request. `signal` (the job's shutdown) cancels it too. The file
 * is closed before this settles, whatever happened, so the caller may remove the directory.
 */
export async function uploadFile(
  storage: ObjectStorage,
  file: LocalFile,
  signal?: AbortSignal,
): Promise<void> {
  signal?.throwIfAborted();
  const request = new AbortController();
  const cancel = () => request.abort(signal?.reason);
  signal?.addEventListener('abort', cancel, { once: true });
  const body = createReadStream(file.path);
  let readError: unknown;
  body.once('error', (error) => {
    readError = error;
    request.abort(error);
  });
  try {
    await storage.put(file.key, body, file.contentType, file.bytes, { signal: request.signal });
  } catch (error) {
    throw readError ?? (signal?.aborted ? signal.reason : error);
  } finally {
    signal?.removeEventListener('abort', cancel);
    await closed(body);
  }
}

async function closed(stream: ReadStream): Promise<void> {
  if (stream.closed) return;
  const done = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  stream.destroy();
  await done;
}
