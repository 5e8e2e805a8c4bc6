/**
 * Content sniffing: what the first bytes say a file is. The declared content type must belong to the same
 * container family; the file name and the client's header count for nothing.
 */
export type Family =
  | 'jpeg'
  | 'png'
  | 'gif'
  | 'webp'
  | 'heif'
  | 'avif'
  | 'isobmff'
  | 'matroska'
  | 'mpeg-audio'
  | 'adts'
  | 'flac'
  | 'ogg'
  | 'wav';

// A Map: the declared type is client text, and a plain object would also answer for `constructor`.
const declaredFamilies: ReadonlyMap<string, readonly Family[]> = new Map<string, readonly Family[]>([
  ['image/jpeg', ['jpeg']],
  ['image/png', ['png']],
  ['image/gif', ['gif']],
  ['image/webp', ['webp']],
  ['image/heic', ['heif']],
  // AVIF is a HEIF profile, so a client may name it by the container.
  ['image/heif', ['heif', 'avif']],
  ['image/avif', ['avif']],
  ['video/mp4', ['isobmff']],
  ['video/quicktime', ['isobmff']],
  ['video/webm', ['matroska']],
  ['video/x-matroska', ['matroska']],
  ['audio/mpeg', ['mpeg-audio']],
  ['audio/mp4', ['isobmff']],
  ['audio/x-m4a', ['isobmff']],
  ['audio/aac', ['adts', 'isobmff']],
  ['audio/wav', ['wav']],
  ['audio/x-wav', ['wav']],
  ['audio/flac', ['flac']],
  ['audio/ogg', ['ogg']],
  ['audio/opus', ['ogg']],
]);

const heifBrands = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1']);
const avifBrands = new Set(['avif', 'avis']);

export function sniffFamily(head: Buffer): Family | undefined {
  const ascii = (start: number, end: number) => head.subarray(start, end).toString('latin1');
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (ascii(0, 8) === '\x89PNG\r\n\x1a\n') return 'png';
  if (ascii(0, 6) === 'GIF87a' || ascii(0, 6) === 'GIF89a') return 'gif';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WAVE') return 'wav';
  if (ascii(4, 8) === 'ftyp') return isoFamily(head);
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'matroska';
  if (ascii(0, 4) === 'fLaC') return 'flac';
  if (ascii(0, 4) === 'OggS') return 'ogg';
  if (ascii(0, 3) === 'ID3') return 'mpeg-audio';
  if (head.length >= 2 && head[0] === 0xff && ((head[1] ?? 0) & 0xf6) === 0xf0) return 'adts';
  if (head.length >= 2 && head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0) return 'mpeg-audio';
  return undefined;
}

function isoFamily(head: Buffer): Family {
  const boxSize = Math.min(head.readUInt32BE(0), head.length);
  const brands = [head.subarray(8, 12).toString('latin1')];
  for (let offset = 16; offset + 4 <= boxSize; offset += 4)
    brands.push(head.subarray(offset, offset + 4).toString('latin1'));
  if (brands.some((b) => avifBrands.has(b))) return 'avif';
  if (
    brands.some((b) => heifBrands.has(b)) &&
    !brands.some((b) => b === 'isom' || b === 'mp42' || b === 'qt  ')
  ) {
    return 'heif';
  }
  return 'isobmff';
}

export function declaredMatches(contentType: string, family: Family | undefined): boolean {
  return family !== undefined && (declaredFamilies.get(contentType) ?? []).includes(family);
}
