import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The additional checksums S3 accepts as `x-amz-checksum-<algorithm>`, computed incrementally. */

const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

export interface Checksum {
  update(data: Buffer): void;
  /** Base64 of the big-endian digest, the form S3 puts in headers and XML. */
  digest(): string;
}

export function isChecksumAlgorithm(name: string): name is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(name);
}

const u32Base64 = (value: number): string => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
};

// CRC-32C (Castagnoli), reflected polynomial; node:zlib only offers plain CRC-32.
const CRC32C_TABLE = new Uint32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});

function crc32c(): Checksum {
  let crc = 0xffffffff;
  return {
    update(data) {
      for (let i = 0; i < data.length; i++) {
        crc = (CRC32C_TABLE[(crc ^ (data[i] as number)) & 0xff] as number) ^ (crc >>> 8);
      }
    },
    digest: () => u32Base64(crc ^ 0xffffffff),
  };
}

// CRC-64/NVME, reflected polynomial 0x9a6c9329ac4bc9b5, kept as two 32-bit halves to avoid BigInt per byte.
const NVME_HI = new Uint32Array(256);
const NVME_LO = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let hi = 0;
  let lo = n;
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      lo = (lo ^ 0xac4bc9b5) >>> 0;
      hi = (hi ^ 0x9a6c9329) >>> 0;
    }
  }
  NVME_HI[n] = hi;
  NVME_LO[n] = lo;
}

function crc64nvme(): Checksum {
  let hi = 0xffffffff;
  let lo = 0xffffffff;
  return {
    update(data) {
      for (let i = 0; i < data.length; i++) {
        const idx = (lo ^ (data[i] as number)) & 0xff;
        lo = (((lo >>> 8) | (hi << 24)) ^ (NVME_LO[idx] as number)) >>> 0;
        hi = ((hi >>> 8) ^ (NVME_HI[idx] as number)) >>> 0;
      }
    },
    digest() {
      const out = Buffer.alloc(8);
      out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0);
      out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4);
      return out.toString('base64');
    },
  };
}

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'crc32': {
      let value = 0;
      return {
        update(data) {
          value = crc32(data, value);
        },
        digest: () => u32Base64(value),
      };
    }
    case 'crc32c':
      return crc32c();
    case 'crc64nvme':
      return crc64nvme();
    case 'sha1':
    case 'sha256': {
      const hash = createHash(algorithm);
      return { update: (data) => void hash.update(data), digest: () => hash.digest('base64') };
    }
  }
}
