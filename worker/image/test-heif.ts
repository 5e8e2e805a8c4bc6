import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

/**
 * Test-only HEIC factory. libheif's `heif-enc` (x265) encodes the pixels; the files phones write but
 * heif-enc 1.15 cannot (512-pixel tile grids, `irot`/`imir`, bursts whose primary is not the first image)
 * are then assembled by test-heif-writer.ts from its coded items, so the corpus needs no downloaded samples.
 */

const run = promisify(execFile);

export interface HeifEncodeOptions {
  /** heif-enc `-q`. */
  quality?: number;
  /** x265 parameters passed as `-p name=value` (e.g. `chroma=444`, `preset=ultrafast`). */
  params?: string[];
  /** heif-enc `-b`: bit depth when the input is a 16-bit PNG. */
  bitDepth?: number;
  avif?: boolean;
}

/** Runs heif-enc on a JPEG or PNG (its EXIF, XMP and ICC profile are carried over). */
export async function heifEnc(input: Buffer, options: HeifEncodeOptions = {}): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'heif-enc-'));
  try {
    const isPng = input.subarray(1, 4).toString('latin1') === 'PNG';
    const source = join(dir, isPng ? 'in.png' : 'in.jpg');
    const output = join(dir, options.avif ? 'out.avif' : 'out.heic');
    await writeFile(source, input);
    const args = ['-q', String(options.quality ?? 50), '-o', output];
    for (const param of options.params ?? []) args.push('-p', param);
    if (options.bitDepth) args.push('-b', String(options.bitDepth));
    await run('heif-enc', [...args, source]);
    return await readFile(output);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One coded image taken out of a heif-enc file: its decoder configuration and its bytes. */
export interface CodedImage {
  width: number;
  height: number;
  /** Whole property boxes (hvcC, colr, pixi, …) except ispe, which the writer makes. */
  properties: Buffer[];
  data: Buffer;
  exif?: Buffer;
}

interface Box {
  type: string;
  start: number;
  end: number;
  whole: Buffer;
}

function boxes(buffer: Buffer, from = 0, to = buffer.length): Box[] {
  const found: Box[] = [];
  for (let offset = from; offset + 8 <= to; ) {
    const size = buffer.readUInt32BE(offset);
    found.push({
      type: buffer.toString('latin1', offset + 4, offset + 8),
      start: offset + 8,
      end: offset + size,
      whole: buffer.subarray(offset, offset + size),
    });
    offset += size;
  }
  return found;
}

const find = (list: Box[], type: string) => {
  const box = list.find((b) => b.type === type);
  if (!box) throw new Error(`no ${type} box`);
  return box;
};

/** Reads the primary item of a single-image heif-enc file (and its Exif item, if any). */
export function codedImage(file: Buffer): CodedImage {
  const meta = find(boxes(file), 'meta');
  const inner = boxes(file, meta.start + 4, meta.end);
  const locations = itemLocations(file, find(inner, 'iloc'));
  const iinf = find(inner, 'iinf');
  const types = new Map<number, string>();
  for (const infe of boxes(file, iinf.start + 6, iinf.end)) {
    types.set(file.readUInt16BE(infe.start + 4), file.toString('latin1', infe.start + 8, infe.start + 12));
  }
  const iprp = boxes(file, find(inner, 'iprp').start, find(inner, 'iprp').end);
  const properties = boxes(file, find(iprp, 'ipco').start, find(iprp, 'ipco').end);
  const ipma = find(iprp, 'ipma');
  const primary = file.readUInt16BE(find(inner, 'pitm').start + 4);
  let at = ipma.start + 8;
  let own: Box[] = [];
  for (let i = 0; i < file.readUInt32BE(ipma.start + 4); i++) {
    const id = file.readUInt16BE(at);
    const count = file.readUInt8(at + 2);
    const indices = Array.from({ length: count }, (_, j) => (file.readUInt8(at + 3 + j) & 0x7f) - 1);
    at += 3 + count;
    if (id === primary) own = indices.map((index) => properties[index] as Box);
  }
  // heif-enc wraps sizes x265 cannot code exactly in a one-tile grid; keep inputs to multiples of 8.
  if (types.get(primary) !== 'hvc1') throw new Error(`heif-enc wrote a ${types.get(primary)} item`);
  const ispe = find(own, 'ispe');
  const exifId = [...types].find(([, type]) => type === 'Exif')?.[0];
  return {
    width: file.readUInt32BE(ispe.start + 4),
    height: file.readUInt32BE(ispe.start + 8),
    properties: own.filter((p) => p.type !== 'ispe').map((p) => Buffer.from(p.whole)),
    data: Buffer.from(locations.get(primary) as Buffer),
    ...(exifId !== undefined ? { exif: Buffer.from(locations.get(exifId) as Buffer) } : {}),
  };
}

/** item id → its bytes, for file-offset items (construction method 0), any iloc version. */
function itemLocations(file: Buffer, iloc: Box): Map<number, Buffer> {
  const version = file[iloc.start] ?? 0;
  let at = iloc.start + 4;
  const sizes = file.readUInt16BE(at);
  const [offsetSize, lengthSize, baseSize, indexSize] = [
    sizes >> 12,
    (sizes >> 8) & 15,
    (sizes >> 4) & 15,
    sizes & 15,
  ];
  at += 2;
  const readN = (bytes: number) => {
    const value = bytes === 0 ? 0 : bytes === 4 ? file.readUInt32BE(at) : Number(file.readBigUInt64BE(at));
    at += bytes;
    return value;
  };
  const count = version < 2 ? file.readUInt16BE(at) : file.readUInt32BE(at);
  at += version < 2 ? 2 : 4;
  const items = new Map<number, Buffer>();
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? file.readUInt16BE(at) : file.readUInt32BE(at);
    at += version < 2 ? 2 : 4;
    if (version >= 1) at += 2;
    at += 2; // data_reference_index
    const base = readN(baseSize);
    const extents = file.readUInt16BE(at);
    at += 2;
    const parts: Buffer[] = [];
    for (let j = 0; j < extents; j++) {
      if (version >= 1 && indexSize > 0) readN(indexSize);
      const offset = readN(offsetSize);
      const length = readN(lengthSize);
      parts.push(file.subarray(base + offset, base + offset + length));
    }
    items.set(id, Buffer.concat(parts));
  }
  return items;
}

/**
 * A phone-style grid HEIC: `image` cut into `tile`-pixel squares (padded at the right and bottom, as
 * phones pad 4032×3024 to 8×6 tiles of 512), each coded by heif-enc, then cropped back by the grid.
 */
export async function gridHeic(
  image: Buffer,
  tile: number,
  options: HeifEncodeOptions = {},
): Promise<CodedImage & { columns: number; rows: number; tiles: CodedImage[] }> {
  const { width = 0, height = 0 } = await sharp(image).metadata();
  const columns = Math.ceil(width / tile);
  const rows = Math.ceil(height / tile);
  const padded = await sharp(image)
    .extend({ right: columns * tile - width, bottom: rows * tile - height, extendWith: 'copy' })
    .png()
    .toBuffer();
  const tiles: CodedImage[] = [];
  for (let row = 0; row < rows; row++) {
    for (let column = 0; column < columns; column++) {
      const piece = await sharp(padded)
        .extract({ left: column * tile, top: row * tile, width: tile, height: tile })
        .jpeg({ quality: 95 })
        .toBuffer();
      tiles.push(codedImage(await heifEnc(piece, options)));
    }
  }
  const first = tiles[0] as CodedImage;
  return { ...first, width, height, columns, rows, tiles };
}
