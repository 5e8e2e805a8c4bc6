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

/**
 * An animation of `frames` frames, each a solid colour stepping round the hue circle, `delayMs` apart;
 * `alpha` leaves a transparent border. GIF or animated WebP, as sharp writes them.
 */
export async function makeAnimation(
  format: 'gif' | 'webp',
  width: number,
  height: number,
  frames: number,
  delayMs = 100,
  alpha = false,
): Promise<Buffer> {
  const channels = 4;
  const frame = width * height * channels;
  const pixels = Buffer.alloc(frame * frames);
  for (let f = 0; f < frames; f++) {
    const [r, g, b] = [f * 67, f * 131 + 80, f * 29 + 160].map((v) => v % 256) as [number, number, number];
    for (let i = 0; i < width * height; i++) {
      const x = i % width;
      const y = Math.floor(i / width);
      const border = alpha && (x < width / 8 || y < height / 8);
      pixels.set([r, g, b, border ? 0 : 255], f * frame + i * channels);
    }
  }
  const image = sharp(pixels, { raw: { width, height: height * frames, channels, pageHeight: height } });
  const delay = Array.from({ length: frames }, () => delayMs);
  return format === 'gif'
    ? image.gif({ delay, loop: 0 }).toBuffer()
    : image.webp({ delay, loop: 0 }).toBuffer();
}

/** A solid `rgb` patch encoded in `profile`'s colour space (libvips converts from sRGB and embeds it). */
export async function makeProfiledJpeg(
  rgb: readonly [number, number, number],
  profile: 'p3' | 'cmyk' | string,
  size = 64,
): Promise<Buffer> {
  const [r, g, b] = rgb;
  return sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } })
    .withIccProfile(profile)
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** A CMYK JPEG without an embedded profile, as print workflows export them. */
export async function makeBareCmykJpeg(rgb: readonly [number, number, number], size = 64): Promise<Buffer> {
  const [r, g, b] = rgb;
  return sharp({ create: { width: size, height: size, channels: 3, background: { r, g, b } } })
    .toColourspace('cmyk')
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** A 16-bit RGB PNG: a horizontal ramp using the full 0–65535 range in red, `value16` in green. */
export async function makePng16(width: number, height: number, value16 = 32896): Promise<Buffer> {
  const pixels = new Uint16Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    pixels[i * 3] = Math.round(((i % width) / Math.max(1, width - 1)) * 65535);
    pixels[i * 3 + 1] = value16;
    pixels[i * 3 + 2] = 0;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .toColourspace('rgb16')
    .png()
    .toBuffer();
}

/** A large JPEG built as a stream by libvips, so even a 12,000×9,000 panorama never sits in memory raw. */
export async function makeLargeJpeg(width: number, height: number): Promise<Buffer> {
  return colourBlobsStreamed(width, height).jpeg({ quality: 80 }).toBuffer();
}

function colourBlobsStreamed(width: number, height: number): Sharp {
  const seed = Buffer.alloc(8 * 6 * 3);
  for (let i = 0; i < seed.length; i++) seed[i] = (i * 97 + 31) % 251;
  return sharp(seed, { raw: { width: 8, height: 6, channels: 3 } }).resize(width, height, {
    fit: 'fill',
    kernel: 'cubic',
  });
}

/**
 * An Adobe RGB (1998) ICC v2 profile (matrix and gamma 563/256, D50 primaries as Adobe publishes them),
 * written here because libvips ships only sRGB, P3 and CMYK profiles.
 */
export function adobeRgbProfile(): Buffer {
  const s15 = (values: number[]) => {
    const b = Buffer.alloc(values.length * 4);
    values.forEach((v, i) => {
      b.writeInt32BE(Math.round(v * 65536), i * 4);
    });
    return b;
  };
  const xyz = (values: number[]) => Buffer.concat([Buffer.from('XYZ \0\0\0\0', 'latin1'), s15(values)]);
  const curve = Buffer.concat([Buffer.from('curv\0\0\0\0', 'latin1'), Buffer.from([0, 0, 0, 1, 0x02, 0x33])]);
  const text = 'Adobe RGB (1998) test profile';
  const desc = Buffer.alloc(12 + text.length + 1 + 8 + 3 + 67);
  desc.write('desc', 0, 'latin1');
  desc.writeUInt32BE(text.length + 1, 8);
  desc.write(text, 12, 'latin1');
  const tags: [string, Buffer][] = [
    ['desc', desc],
    ['wtpt', xyz([0.9642, 1, 0.82491])],
    ['rXYZ', xyz([0.60974, 0.31111, 0.01947])],
    ['gXYZ', xyz([0.20528, 0.62567, 0.06087])],
    ['bXYZ', xyz([0.14919, 0.06322, 0.74457])],
    ['rTRC', curve],
    ['gTRC', curve],
    ['bTRC', curve],
    ['cprt', Buffer.concat([Buffer.from('text\0\0\0\0', 'latin1'), Buffer.from('none\0', 'latin1')])],
  ];
  const table = Buffer.alloc(4 + tags.length * 12);
  table.writeUInt32BE(tags.length);
  const bodies: Buffer[] = [];
  let offset = 128 + table.length;
  tags.forEach(([signature, body], i) => {
    const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
    table.write(signature, 4 + i * 12, 'latin1');
    table.writeUInt32BE(offset, 8 + i * 12);
    table.writeUInt32BE(body.length, 12 + i * 12);
    bodies.push(padded);
    offset += padded.length;
  });
  const header = Buffer.alloc(128);
  header.writeUInt32BE(offset, 0);
  header.writeUInt32BE(0x02100000, 8);
  header.write('mntrRGB XYZ ', 12, 'latin1');
  header.write('acsp', 36, 'latin1');
  s15([0.9642, 1, 0.82491]).copy(header, 68);
  return Buffer.concat([header, table, ...bodies]);
}
