import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/**
 * Filesystem primitives the store is built from. Every visible change is a rename of a fully written
 * file, so a reader sees the old state or the new one and never a half-written file.
 */

export const randomName = (): string => randomBytes(12).toString('hex');

export interface Spooled {
  path: string;
  size: number;
  md5: Buffer;
}

/** Streams `source` into a new file in `dir`, hashing on the way; the file is removed if anything fails. */
export async function spool(source: AsyncIterable<Buffer>, dir: string): Promise<Spooled> {
  const path = join(dir, `${randomName()}.spool`);
  const md5 = createHash('md5');
  let size = 0;
  try {
    await pipeline(
      source,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          md5.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(path, { flags: 'wx' }),
    );
  } catch (error) {
    await rm(path, { force: true });
    throw error;
  }
  return { path, size, md5: md5.digest() };
}

export async function writeFileAtomic(path: string, data: string, tmpDir: string): Promise<void> {
  const tmp = join(tmpDir, `${randomName()}.write`);
  await writeFile(tmp, data, { flag: 'wx' });
  await rename(tmp, path);
}

export const writeJsonAtomic = (path: string, value: unknown, tmpDir: string): Promise<void> =>
  writeFileAtomic(path, JSON.stringify(value), tmpDir);

export const isMissing = (error: unknown): boolean =>
  error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');

export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  const raw = await readOptional(path);
  return raw === undefined ? undefined : (JSON.parse(raw) as T);
}

/** Serialises async critical sections per key: the read-replace-unlink of a commit must not interleave. */
export class KeyedLock {
  #tails = new Map<string, Promise<void>>();

  async run<T>(key: string, critical: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release = (): void => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    await previous;
    try {
      return await critical();
    } finally {
      release();
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    }
  }
}
