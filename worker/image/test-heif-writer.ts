import type { CodedImage } from './test-heif.ts';

/**
 * Test-only HEIC writer: lays out coded images (from heif-enc, see test-heif.ts) as phones write files
 * heif-enc 1.15 cannot: tile grids, `irot`/`imir`, bursts whose primary is not the first image.
 */

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
