const mib = 1024 * 1024;
export const minPartBytes = 5 * mib;
export const maxParts = 10_000;

/**
 * Chooses a part size that respects S3's rules (every part but the last ≥ 5 MiB, at most 10,000 parts)
 * while keeping parts near the configured size for cheap retries on mobile networks.
 */
export function planParts(size: number, preferredPartBytes: number): { partSize: number; partCount: number } {
  const floor = Math.max(preferredPartBytes, minPartBytes, Math.ceil(size / maxParts / mib) * mib);
  const partSize = Math.min(floor, Math.max(size, minPartBytes));
  return { partSize, partCount: Math.max(1, Math.ceil(size / partSize)) };
}

/** Bytes of one part: `partSize`, except the last, which holds the remainder. */
export function partLength(size: number, partSize: number, partNumber: number): number {
  return Math.min(partSize, size - (partNumber - 1) * partSize);
}
