import { crc32, deflateRawSync, constants as zlib } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

/** Test-only image factories: fixtures are generated at test time so no binaries live in the repo. */

export interface TestGps {
  lat: number;
  lon: number;
  alt?: number;
}

/** Camera tags every `makeJpegWithGps` image carries, so tests can compare what they read back. */
export const TEST_CAMERA = {
  make: 'Mediagate',
  model: 'Test Phone 1',
  lens: 'Test Lens 4.2mm f/1.8',
  capturedAt: '2024-05-06T07:08:09+02:00',
  exposureTime: 1 / 125,
  fNumber: 1.8,
  iso: 200,
  focalLength: 4.2,
} as const;

/** A marker string planted in XMP so tests can prove no XMP survives into derivatives. */
export const TEST_XMP_MARKER = 'mediagate-test-xmp-marker';

/**
 * A phone-like JPEG: stored `width`×`height` pixels, tagged with `orientation`, camera EXIF, GPS in the
 * GPS IFD, XMP with a location, and an embedded sRGB ICC profile. Content is smooth colour blobs so that
 * crops, encoders and placeholders have something to work with while staying cheap to encode.
 */
export async function makeJpegWithGps(
  width: number,
  height: number,
  gps: TestGps,
  orientation = 1,
  /** Sensor-like noise makes the file as large as a real phone original (a 12 MP photo → over 10 MB). */
  grain = false,
): Promise<Buffer> {
  const gpsIfd: Record<string, string> = {
    GPSLatitudeRef: gps.lat < 0 ? 'S' : 'N',
    GPSLatitude: toDegreesMinutesSeconds(gps.lat),
    GPSLongitudeRef: gps.lon < 0 ? 'W' : 'E',
    GPSLongitude: toDegreesMinutesSeconds(gps.lon),
  };
  if (gps.alt !== undefined) {
    gpsIfd.GPSAltitudeRef = '0';
    gpsIfd.GPSAltitude = `${Math.round(Math.abs(gps.alt) * 100)}/100`;
  }
  const jpeg = await (await colourBlobs(width, height, grain ? 96 : 0))
    .jpeg({ quality: grain ? 98 : 85 })
    .withExif({
      IFD0: { Make: TEST_CAMERA.make, Model: TEST_CAMERA.model },
      IFD2: {
        DateTimeOriginal: '2024:05:06 07:08:09',
        OffsetTimeOriginal: '+02:00',
        ExposureTime: '1/125',
        FNumber: '18/10',
        ISOSpeedRatings: String(TEST_CAMERA.iso),
        FocalLength: '42/10',
        LensModel: TEST_CAMERA.lens,
      },
      IFD3: gpsIfd,
    })
    .withXmp(xmpPacket(gps))
    .withMetadata({ orientation })
    .toBuffer();
  if (gps.alt !== undefined && gps.alt < 0) markBelowSeaLevel(jpeg);
  return jpeg;
}

/**
 * libvips writes BYTE-typed tags as 0 whatever string it is given, so GPSAltitudeRef = 1 (below sea
 * level) is patched into the little-endian APP1 segment libvips produces: tag 0x0005, type BYTE, count 1.
 */
function markBelowSeaLevel(jpeg: Buffer): void {
  const exif = jpeg.indexOf('Exif\0\0', 0, 'latin1');
  const entry = jpeg.indexOf(Buffer.from([0x05, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]), exif);
  if (exif < 2 || entry < 0 || entry > exif + jpeg.readUInt16BE(exif - 2)) {
    throw new Error('GPSAltitudeRef entry not found');
  }
  jpeg[entry + 8] = 1;
}

/** A PNG whose left half is fully transparent and right half semi-transparent. */
export async function makePngWithAlpha(width: number, height: number): Promise<Buffer> {
  const blobs = await colourBlobs(width, height);
  const alpha = Buffer.alloc(width * height);
  for (let y = 0; y < height; y++) alpha.fill(128, y * width + Math.floor(width / 2), (y + 1) * width);
  return blobs
    .joinChannel(alpha, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
}

/**
 * A genuinely decodable all-black greyscale PNG of any size that costs kilobytes and milliseconds
 * to build: one compressed run of zeros is repeated as independent deflate blocks, so even a
 * 30000×30000 image needs no gigabyte buffer. Serves as a pixel bomb and as a slow-to-decode input.
 */
export function makeHugePng(width: number, height: number): Buffer {
  const rawLength = height * (width + 1);
  const chunkLength = 1 << 20;
  const fullFlush = { finishFlush: zlib.Z_FULL_FLUSH };
  const repeated = deflateRawSync(Buffer.alloc(chunkLength), fullFlush);
  const blocks: Buffer[] = [Buffer.from([0x78, 0x01])];
  for (let i = 0; i < Math.floor(rawLength / chunkLength); i++) blocks.push(repeated);
  const remainder = rawLength % chunkLength;
  if (remainder > 0) blocks.push(deflateRawSync(Buffer.alloc(remainder), fullFlush));
  // An empty final fixed-Huffman block, then Adler-32 of all zeros: a = 1, b = length mod 65521.
  blocks.push(Buffer.from([0x03, 0x00]));
  const adler = Buffer.alloc(4);
  adler.writeUInt32BE((((rawLength % 65521) << 16) | 1) >>> 0);
  blocks.push(adler);

  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', Buffer.concat(blocks)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const typeAndData = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const framing = Buffer.alloc(8);
  framing.writeUInt32BE(data.length, 0);
  framing.writeUInt32BE(crc32(typeAndData), 4);
  return Buffer.concat([framing.subarray(0, 4), typeAndData, framing.subarray(4)]);
}

/** Upscales a tiny random image so the result has smooth, varied colour at any size. */
async function colourBlobs(width: number, height: number, grain = 0): Promise<Sharp> {
  const channels = 3;
  const seedWidth = 8;
  const seedHeight = 6;
  const seed = Buffer.alloc(seedWidth * seedHeight * channels);
  for (let i = 0; i < seed.length; i++) seed[i] = (i * 97 + 31) % 251;
  const pixels = await sharp(seed, { raw: { width: seedWidth, height: seedHeight, channels } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  let state = 0x9e3779b9;
  for (let i = 0; grain > 0 && i < pixels.length; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    pixels[i] = Math.max(0, Math.min(255, (pixels[i] ?? 0) + ((state >>> 24) / 255 - 0.5) * grain));
  }
  return sharp(pixels, { raw: { width, height, channels } });
}

function toDegreesMinutesSeconds(decimal: number): string {
  const absolute = Math.abs(decimal);
  const degrees = Math.floor(absolute);
  const minutes = Math.floor((absolute - degrees) * 60);
  const seconds = Math.round((absolute - degrees - minutes / 60) * 3600 * 10000);
  return `${degrees}/1 ${minutes}/1 ${seconds}/10000`;
}

function xmpPacket(gps: TestGps): string {
  return [
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    `<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:mg="urn:${TEST_XMP_MARKER}"`,
    ` exif:GPSLatitude="${gps.lat}" exif:GPSLongitude="${gps.lon}" mg:marker="${TEST_XMP_MARKER}"/>`,
    '</rdf:RDF></x:xmpmeta>',
  ].join('');
}
