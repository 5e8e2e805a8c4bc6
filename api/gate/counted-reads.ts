import type { ObjectStorage } from '../../platform/storage/object-storage.ts';

/** Storage as the gate sees it, counting the bytes it reads: the gate's promise is to read little. */
export function countedReads(storage: ObjectStorage): { storage: ObjectStorage; bytes(): number } {
  let bytes = 0;
  const counted: ObjectStorage = Object.create(storage);
  counted.readRange = async (key, start, endInclusive) => {
    const read = await storage.readRange(key, start, endInclusive);
    bytes += read.length;
    return read;
  };
  counted.readHead = async (key, length) => {
    const read = await storage.readHead(key, length);
    bytes += read?.bytes.length ?? 0;
    return read;
  };
  return { storage: counted, bytes: () => bytes };
}
