import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';

/**
 * Test-only HEIC factory. libheif's `heif-enc` (x265) encodes the pixels; the files phones write but
 * heif-enc 1.15 cannot (512-pixel tile grids, `irot`/`imir`, bursts whose primary is not the first image)
 * are then assembled here from its coded items, box by box, so the corpus needs no downloaded samples.
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

/** What one top-level image of the written file is made of. */
export interface HeifImageSpec {
  /** A single coded image, or a grid of equal tiles cropped to `width`×`height`. */
  coded: CodedImage | { columns: number; rows: number; tiles: CodedImage[]; width: number; height: number };
  /** `irot` angle in 90° steps anticlockwise. */
  rotate?: 0 | 1 | 2 | 3;
  /** `imir` axis: 0 mirrors top-bottom, 1 left-right. */
  mirror?: 0 | 1;
  /** The Exif item's bytes, when the coded image brings none (grid tiles). */
  exif?: Buffer;
}

const box = (type: string, ...payload: Buffer[]) => {
  const body = Buffer.concat(payload);
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + body.length);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, body]);
};
const fullBox = (type: string, version: number, flags: number, ...payload: Buffer[]) => {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(((version << 24) | flags) >>> 0);
  return box(type, head, ...payload);
};
const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/**
 * Writes a HEIC holding `images` as top-level images, `primary` (an index into them) marked primary, the
 * primary's EXIF as a metadata item, as phones lay files out: ftyp, meta, then one mdat.
 */
export function writeHeic(images: HeifImageSpec[], primary = 0): Buffer {
  const items: { id: number; type: string; hidden: boolean; data: Buffer; props: Buffer[] }[] = [];
  const refs: { type: string; from: number; to: number[] }[] = [];
  const ispe = (width: number, height: number) => fullBox('ispe', 0, 0, u32(width), u32(height));
  let primaryId = 0;
  for (const [index, image] of images.entries()) {
    const transforms = [
      ...(image.rotate ? [box('irot', u8(image.rotate))] : []),
      ...(image.mirror !== undefined ? [box('imir', u8(image.mirror))] : []),
    ];
    const coded = image.coded;
    let id: number;
    let exif: Buffer | undefined;
    if ('tiles' in coded) {
      const tileIds = coded.tiles.map((tile) => {
        items.push({
          id: items.length + 1,
          type: 'hvc1',
          hidden: true,
          data: tile.data,
          props: [...tile.properties, ispe(tile.width, tile.height)],
        });
        return items.length;
      });
      const descriptor = Buffer.concat([
        u8(0),
        u8(0),
        u8(coded.rows - 1),
        u8(coded.columns - 1),
        u16(coded.width),
        u16(coded.height),
      ]);
      const colour = coded.tiles[0]?.properties.filter((p) => p.toString('latin1', 4, 8) === 'colr') ?? [];
      items.push({
        id: items.length + 1,
        type: 'grid',
        hidden: false,
        data: descriptor,
        props: [...colour, ispe(coded.width, coded.height), ...transforms],
      });
      id = items.length;
      refs.push({ type: 'dimg', from: id, to: tileIds });
      exif = image.exif;
    } else {
      items.push({
        id: items.length + 1,
        type: 'hvc1',
        hidden: false,
        data: coded.data,
        props: [...coded.properties, ispe(coded.width, coded.height), ...transforms],
      });
      id = items.length;
      exif = image.exif ?? coded.exif;
    }
    if (index === primary) {
      primaryId = id;
      if (exif) {
        items.push({ id: items.length + 1, type: 'Exif', hidden: true, data: exif, props: [] });
        refs.push({ type: 'cdsc', from: items.length, to: [id] });
      }
    }
  }

  const propertyList: Buffer[] = [];
  const indexOf = (prop: Buffer) => {
    const found = propertyList.findIndex((p) => p.equals(prop));
    if (found >= 0) return found + 1;
    propertyList.push(prop);
    return propertyList.length;
  };
  const associations = items.map((item) => {
    const indices = item.props.map(indexOf);
    const entries = indices.map((i) => u8(i));
    return Buffer.concat([u16(item.id), u8(indices.length), ...entries]);
  });

  const ftyp = box('ftyp', Buffer.from('heic', 'latin1'), u32(0), Buffer.from('mif1heicmiaf', 'latin1'));
  const metaFor = (dataStart: number) => {
    let offset = dataStart;
    const locations = items.map((item) => {
      const entry = Buffer.concat([u16(item.id), u16(0), u16(1), u32(offset), u32(item.data.length)]);
      offset += item.data.length;
      return entry;
    });
    const iinf = fullBox(
      'iinf',
      0,
      0,
      u16(items.length),
      ...items.map((item) =>
        fullBox(
          'infe',
          2,
          item.hidden ? 1 : 0,
          u16(item.id),
          u16(0),
          Buffer.from(item.type, 'latin1'),
          u8(0),
        ),
      ),
    );
    const iref = fullBox(
      'iref',
      0,
      0,
      ...refs.map((r) => box(r.type, u16(r.from), u16(r.to.length), ...r.to.map(u16))),
    );
    return fullBox(
      'meta',
      0,
      0,
      fullBox('hdlr', 0, 0, u32(0), Buffer.from('pict', 'latin1'), Buffer.alloc(13)),
      fullBox('pitm', 0, 0, u16(primaryId)),
      fullBox('iloc', 0, 0, u8(0x44), u8(0x00), u16(items.length), ...locations),
      iinf,
      ...(refs.length > 0 ? [iref] : []),
      box('iprp', box('ipco', ...propertyList), fullBox('ipma', 0, 0, u32(items.length), ...associations)),
    );
  };
  const metaLength = metaFor(0).length;
  const meta = metaFor(ftyp.length + metaLength + 8);
  return Buffer.concat([ftyp, meta, box('mdat', ...items.map((item) => item.data))]);
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
