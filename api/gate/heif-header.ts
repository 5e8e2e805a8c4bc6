/**
 * What a HEIF/AVIF file is, read from its boxes alone: the `ftyp` brands and the primary image's `ispe`
 * dimensions (turned by `irot`) from the `meta` box. Nothing is decoded, and only the box headers on the
 * way to `meta` and `meta` itself are read, so a phone photo costs a few kilobytes of range reads wherever
 * its `mdat` sits. The parser trusts no length: every read is bounds-checked and `meta` is capped.
 */

/** Reads bytes `start`..`end` inclusive, as storage range reads do. */
export type ReadRange = (start: number, end: number) => Promise<Buffer>;

export interface HeifHeader {
  brands: string[];
  /** The primary item's type: `hvc1` (HEVC), `av01` (AV1), `grid` (tiles), … */
  primaryType: string;
  /** Codec of the pixels: the primary item's own, or its tiles' for a grid. */
  codec: 'hevc' | 'av1' | 'other';
  /** As displayed: `irot` by 90° or 270° swaps them. */
  width: number;
  height: number;
  rotation: 0 | 90 | 180 | 270;
  mirrored: boolean;
  /** Top-level images (a burst holds several); thumbnails, tiles and auxiliary images are not counted. */
  imageCount: number;
}

export class HeifHeaderError extends Error {}

const maxMetaBytes = 1024 * 1024;
const maxTopLevelBoxes = 64;

interface Box {
  type: string;
  /** Offset of the payload (after size, type and any largesize) in the buffer it was found in. */
  start: number;
  end: number;
}

/** Boxes laid end to end in `buffer[from, to)`; a box running past `to` is an error. */
function boxes(buffer: Buffer, from: number, to: number): Box[] {
  const found: Box[] = [];
  let offset = from;
  while (offset + 8 <= to) {
    let size = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    let header = 8;
    if (size === 1) {
      if (offset + 16 > to) throw new HeifHeaderError(`truncated ${type} box`);
      size = Number(buffer.readBigUInt64BE(offset + 8));
      header = 16;
    } else if (size === 0) {
      size = to - offset;
    }
    if (size < header || offset + size > to) throw new HeifHeaderError(`${type} box overruns its parent`);
    found.push({ type, start: offset + header, end: offset + size });
    offset += size;
  }
  return found;
}

function child(buffer: Buffer, parent: Box, type: string, parentIsFullBox = false): Box | undefined {
  return boxes(buffer, parent.start + (parentIsFullBox ? 4 : 0), parent.end).find((b) => b.type === type);
}

/** Finds `meta` among the top-level boxes, reading headers past `head` by range when it is not there. */
async function readMeta(
  head: Buffer,
  size: number,
  read: ReadRange,
): Promise<{ ftyp: Buffer; meta: Buffer }> {
  let ftyp: Buffer | undefined;
  let offset = 0;
  for (let i = 0; i < maxTopLevelBoxes && offset + 8 <= size; i++) {
    const header =
      offset + 16 <= head.length
        ? head.subarray(offset, offset + 16)
        : await read(offset, Math.min(size, offset + 16) - 1);
    if (header.length < 8) break;
    let boxSize = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    if (boxSize === 1 && header.length >= 16) boxSize = Number(header.readBigUInt64BE(8));
    else if (boxSize === 0) boxSize = size - offset;
    if (boxSize < 8 || offset + boxSize > size) throw new HeifHeaderError(`${type} box overruns the file`);
    if (type === 'ftyp' || type === 'meta') {
      if (boxSize > maxMetaBytes) throw new HeifHeaderError(`${type} box is ${boxSize} bytes`);
      const box =
        offset + boxSize <= head.length
          ? head.subarray(offset, offset + boxSize)
          : await read(offset, offset + boxSize - 1);
      if (type === 'ftyp') ftyp = box;
      else if (ftyp) return { ftyp, meta: box };
      else throw new HeifHeaderError('meta box before ftyp');
    }
    offset += boxSize;
  }
  throw new HeifHeaderError('no meta box');
}

function brandsOf(ftyp: Buffer): string[] {
  const brands = [ftyp.toString('latin1', 8, 12)];
  for (let offset = 16; offset + 4 <= ftyp.length; offset += 4)
    brands.push(ftyp.toString('latin1', offset, offset + 4));
  return brands;
}

export async function readHeifHeader(head: Buffer, size: number, read: ReadRange): Promise<HeifHeader> {
  const file = await readMeta(head, size, read);
  try {
    return parseMeta(brandsOf(file.ftyp), file.meta);
  } catch (error) {
    // A RangeError is a length that pointed past its box: the file lies about its structure.
    if (error instanceof RangeError) throw new HeifHeaderError(`malformed meta box: ${error.message}`);
    throw error;
  }
}

function parseMeta(brands: string[], buffer: Buffer): HeifHeader {
  const [meta] = boxes(buffer, 0, buffer.length);
  if (meta?.type !== 'meta') throw new HeifHeaderError('no meta box');
  const pitm = child(buffer, meta, 'pitm', true);
  const iinf = child(buffer, meta, 'iinf', true);
  const iprp = child(buffer, meta, 'iprp', true);
  if (!pitm || !iinf || !iprp) throw new HeifHeaderError('meta box lacks pitm, iinf or iprp');
  const primary =
    buffer[pitm.start] === 0 ? buffer.readUInt16BE(pitm.start + 4) : buffer.readUInt32BE(pitm.start + 4);
  const types = itemTypes(buffer, iinf);
  const hidden = referencedItems(buffer, child(buffer, meta, 'iref', true));
  const properties = itemProperties(buffer, iprp);
  const primaryProps = properties.get(primary) ?? [];
  const ispe = primaryProps.find((p) => p.type === 'ispe');
  if (!ispe) throw new HeifHeaderError('the primary image has no ispe');
  const irot = primaryProps.find((p) => p.type === 'irot');
  const rotation = (((irot ? (buffer[irot.start] ?? 0) & 3 : 0) * 90) % 360) as HeifHeader['rotation'];
  const stored = { width: buffer.readUInt32BE(ispe.start + 4), height: buffer.readUInt32BE(ispe.start + 8) };
  if (stored.width === 0 || stored.height === 0)
    throw new HeifHeaderError('the primary image has no dimensions');
  const turned = rotation === 90 || rotation === 270;
  const primaryType = types.get(primary);
  if (!primaryType) throw new HeifHeaderError('the primary item is not in iinf');
  const codedTypes = primaryType === 'grid' ? new Set(types.values()) : new Set([primaryType]);
  const imageTypes = new Set(['hvc1', 'av01', 'grid', 'iden', 'iovl', 'jpeg', 'unci']);
  return {
    brands,
    primaryType,
    codec: codedTypes.has('hvc1') ? 'hevc' : codedTypes.has('av01') ? 'av1' : 'other',
    width: turned ? stored.height : stored.width,
    height: turned ? stored.width : stored.height,
    rotation,
    mirrored: primaryProps.some((p) => p.type === 'imir'),
    imageCount: [...types].filter(([id, type]) => imageTypes.has(type) && !hidden.has(id)).length,
  };
}

/** item id → item type, from the `infe` entries (versions 2 and 3 carry a type). */
function itemTypes(buffer: Buffer, iinf: Box): Map<number, string> {
  const countBytes = buffer[iinf.start] === 0 ? 2 : 4;
  const types = new Map<number, string>();
  for (const infe of boxes(buffer, iinf.start + 4 + countBytes, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const version = buffer[infe.start] ?? 0;
    if (version < 2) continue;
    const idBytes = version === 2 ? 2 : 4;
    const id = idBytes === 2 ? buffer.readUInt16BE(infe.start + 4) : buffer.readUInt32BE(infe.start + 4);
    types.set(id, buffer.toString('latin1', infe.start + 6 + idBytes, infe.start + 10 + idBytes));
  }
  return types;
}

/** Items that are parts of another (tiles, thumbnails, alpha or depth planes): not images of their own. */
function referencedItems(buffer: Buffer, iref: Box | undefined): Set<number> {
  const hidden = new Set<number>();
  if (!iref) return hidden;
  const idBytes = buffer[iref.start] === 0 ? 2 : 4;
  const read = (at: number) => (idBytes === 2 ? buffer.readUInt16BE(at) : buffer.readUInt32BE(at));
  for (const reference of boxes(buffer, iref.start + 4, iref.end)) {
    const from = read(reference.start);
    const count = buffer.readUInt16BE(reference.start + idBytes);
    const to = Array.from({ length: count }, (_, i) => read(reference.start + idBytes + 2 + i * idBytes));
    // dimg points from the grid to its tiles; thmb, auxl, cdsc and base point from the part to its image.
    if (reference.type === 'dimg') for (const id of to) hidden.add(id);
    else if (['thmb', 'auxl', 'cdsc', 'base', 'prem'].includes(reference.type)) hidden.add(from);
  }
  return hidden;
}

/** item id → its property boxes, through `ipma`'s 1-based indices into `ipco`. */
function itemProperties(buffer: Buffer, iprp: Box): Map<number, Box[]> {
  const inner = boxes(buffer, iprp.start, iprp.end);
  const ipco = inner.find((b) => b.type === 'ipco');
  const ipmas = inner.filter((b) => b.type === 'ipma');
  if (!ipco || ipmas.length === 0) throw new HeifHeaderError('iprp lacks ipco or ipma');
  const list = boxes(buffer, ipco.start, ipco.end);
  const byItem = new Map<number, Box[]>();
  for (const ipma of ipmas) {
    const version = buffer[ipma.start] ?? 0;
    const wideIndex = ((buffer[ipma.start + 3] ?? 0) & 1) === 1;
    const count = buffer.readUInt32BE(ipma.start + 4);
    let at = ipma.start + 8;
    for (let i = 0; i < count; i++) {
      const id = version < 1 ? buffer.readUInt16BE(at) : buffer.readUInt32BE(at);
      at += version < 1 ? 2 : 4;
      const associations = buffer.readUInt8(at++);
      const props: Box[] = [];
      for (let j = 0; j < associations; j++) {
        const index = wideIndex ? buffer.readUInt16BE(at) & 0x7fff : buffer.readUInt8(at) & 0x7f;
        at += wideIndex ? 2 : 1;
        const box = list[index - 1];
        if (box) props.push(box);
      }
      if (at > ipma.end) throw new HeifHeaderError('ipma overruns its box');
      byItem.set(id, props);
    }
  }
  return byItem;
}
