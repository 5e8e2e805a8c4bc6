import { open, readFile, writeFile } from 'node:fs/promises';

/**
 * The display matrix of an MP4's video track (`moov/trak/tkhd`, 36 bytes): how a player turns the coded
 * frames. ffmpeg's HLS muxer (5.1 and 6.x) drops it when it copies a stream into fMP4 segments, so a
 * copied portrait rung would play sideways; the worker writes it back into the package's `init.mp4`.
 */
const MATRIX_BYTES = 36;

interface Box {
  type: string;
  start: number;
  headerSize: number;
  end: number;
}

function* children(buffer: Buffer, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = buffer.readUInt32BE(at);
    let headerSize = 8;
    if (size === 1 && at + 16 <= end) {
      size = Number(buffer.readBigUInt64BE(at + 8));
      headerSize = 16;
    } else if (size === 0) size = end - at;
    if (size < headerSize || at + size > end) return;
    yield { type: buffer.toString('latin1', at + 4, at + 8), start: at, headerSize, end: at + size };
    at += size;
  }
}

function child(buffer: Buffer, parent: Box, type: string): Box | undefined {
  for (const box of children(buffer, parent.start + parent.headerSize, parent.end))
    if (box.type === type) return box;
  return undefined;
}

/** Offset of the video track's tkhd matrix in a buffer holding a whole `moov` box at `moovStart`. */
function videoMatrixOffset(buffer: Buffer, moov: Box): number | undefined {
  for (const trak of children(buffer, moov.start + moov.headerSize, moov.end)) {
    if (trak.type !== 'trak') continue;
    const mdia = child(buffer, trak, 'mdia');
    const hdlr = mdia && child(buffer, mdia, 'hdlr');
    if (
      !hdlr ||
      buffer.toString('latin1', hdlr.start + hdlr.headerSize + 8, hdlr.start + hdlr.headerSize + 12) !==
        'vide'
    )
      continue;
    const tkhd = child(buffer, trak, 'tkhd');
    if (!tkhd) return undefined;
    const body = tkhd.start + tkhd.headerSize;
    // version 1 has 64-bit times: creation, modification, (track id, reserved), duration.
    const times = buffer[body] === 1 ? 32 : 20;
    const offset = body + 4 + times + 8 + 8;
    return offset + MATRIX_BYTES <= tkhd.end ? offset : undefined;
  }
  return undefined;
}

/** Reads the video track's matrix, walking top-level box headers so only `moov` is read whole. */
export async function readVideoMatrix(path: string): Promise<Buffer | undefined> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const header = Buffer.alloc(16);
    let at = 0;
    while (at + 8 <= size) {
      await file.read(header, 0, 16, at);
      let boxSize = header.readUInt32BE(0);
      if (boxSize === 1) boxSize = Number(header.readBigUInt64BE(8));
      else if (boxSize === 0) boxSize = size - at;
      if (boxSize < 8) return undefined;
      if (header.toString('latin1', 4, 8) === 'moov') {
        const moov = Buffer.alloc(boxSize);
        await file.read(moov, 0, boxSize, at);
        const [box] = children(moov, 0, boxSize);
        const offset = box && videoMatrixOffset(moov, box);
        return offset === undefined ? undefined : Buffer.from(moov.subarray(offset, offset + MATRIX_BYTES));
      }
      at += boxSize;
    }
    return undefined;
  } finally {
    await file.close();
  }
}

/** Overwrites the video track's matrix in a small file (an init segment); false when it has none. */
export async function writeVideoMatrix(path: string, matrix: Buffer): Promise<boolean> {
  const buffer = await readFile(path);
  for (const box of children(buffer, 0, buffer.length)) {
    if (box.type !== 'moov') continue;
    const offset = videoMatrixOffset(buffer, box);
    if (offset === undefined) return false;
    matrix.copy(buffer, offset, 0, MATRIX_BYTES);
    await writeFile(path, buffer);
    return true;
  }
  return false;
}
