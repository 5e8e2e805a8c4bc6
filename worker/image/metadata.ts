import exifr from 'exifr';
import sharp, { type Metadata } from 'sharp';
import { rejectionFromDecodeError } from './errors.ts';

export interface ImageGps {
  lat: number;
  lon: number;
  /** Metres above sea level; negative below. */
  alt?: number;
}

export interface ImageExposure {
  /** Seconds. */
  exposureTime?: number;
  fNumber?: number;
  iso?: number;
  /** Millimetres, as recorded (not 35 mm equivalent). */
  focalLength?: number;
}

/**
 * JSON-ready facts about an image; fields the file does not carry are absent, never undefined.
 * A type alias rather than an interface so it stays assignable to Record<string, unknown>.
 */
export type ImageMetadata = {
  format: string;
  /** As displayed, i.e. after EXIF orientation, matching the ladder's width and height. */
  width: number;
  height: number;
  /** The raw EXIF tag (1–8), kept for provenance; width and height already account for it. */
  orientation?: number;
  make?: string;
  model?: string;
  lens?: string;
  /**
   * Capture time as an ISO 8601 string. EXIF records wall-clock time; the UTC offset is appended
   * only when the camera recorded one, since assuming the worker's zone would invent a moment.
   */
  capturedAt?: string;
  gps?: ImageGps;
  exposure?: ImageExposure;
};

/** The subset of exifr's output read here; exifr types it as `any`. */
interface ExifTags {
  Make?: unknown;
  Model?: unknown;
  LensModel?: unknown;
  DateTimeOriginal?: unknown;
  OffsetTimeOriginal?: unknown;
  CreateDate?: unknown;
  OffsetTimeDigitized?: unknown;
  ExposureTime?: unknown;
  FNumber?: unknown;
  ISO?: unknown;
  FocalLength?: unknown;
  latitude?: unknown;
  longitude?: unknown;
  GPSAltitude?: unknown;
  GPSAltitudeRef?: unknown;
}

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})$/;
const UTC_OFFSET = /^[+-]\d{2}:\d{2}$/;

/**
 * Reads dimensions and format with sharp (header only) and camera EXIF with exifr. Throws
 * ImageRejectedError only when sharp cannot read the image at all; missing or broken EXIF just
 * leaves the camera fields out.
 */
export async function readImageMetadata(inputPath: string): Promise<ImageMetadata> {
  const [header, tags] = await Promise.all([readHeader(inputPath), readExif(inputPath)]);
  const metadata: ImageMetadata = {
    format: header.format,
    width: header.autoOrient.width,
    height: header.autoOrient.height,
  };
  if (header.orientation !== undefined) metadata.orientation = header.orientation;
  assignDefined(metadata, {
    make: text(tags.Make),
    model: text(tags.Model),
    lens: text(tags.LensModel),
    capturedAt:
      isoDate(tags.DateTimeOriginal, tags.OffsetTimeOriginal) ??
      isoDate(tags.CreateDate, tags.OffsetTimeDigitized),
    gps: gps(tags),
  });
  const exposure: ImageExposure = {};
  assignDefined(exposure, {
    exposureTime: positive(tags.ExposureTime),
    fNumber: positive(tags.FNumber),
    // Some cameras record several ISO values; the first is the one used.
    iso: positive(Array.isArray(tags.ISO) ? tags.ISO[0] : tags.ISO),
    focalLength: positive(tags.FocalLength),
  });
  if (Object.keys(exposure).length > 0) metadata.exposure = exposure;
  return metadata;
}

async function readHeader(inputPath: string): Promise<Metadata> {
  try {
    // Only the header is read, so no pixel limit: judging size is the ladder's job, not this report's.
    return await sharp(inputPath, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw rejectionFromDecodeError(error);
  }
}

async function readExif(inputPath: string): Promise<ExifTags> {
  try {
    // reviveValues: false keeps dates as the camera's strings; exifr would read them in the worker's zone.
    const tags: ExifTags | undefined = await exifr.parse(inputPath, {
      tiff: true,
      exif: true,
      gps: true,
      ifd1: false,
      interop: false,
      xmp: false,
      icc: false,
      iptc: false,
      jfif: false,
      ihdr: false,
      translateValues: false,
      reviveValues: false,
    });
    return tags ?? {};
  } catch {
    // EXIF is optional decoration: an exotic container or a mangled block must not cost the user
    // their upload when the pixels themselves decode fine.
    return {};
  }
}

function gps(tags: ExifTags): ImageGps | undefined {
  const { latitude: lat, longitude: lon } = tags;
  if (typeof lat !== 'number' || typeof lon !== 'number') return undefined;
  if (!(Math.abs(lat) <= 90 && Math.abs(lon) <= 180)) return undefined;
  const altitude = finite(tags.GPSAltitude);
  if (altitude === undefined) return { lat, lon };
  // GPSAltitudeRef is a one-byte field (1 = below sea level) that exifr hands back as bytes.
  const ref = tags.GPSAltitudeRef instanceof Uint8Array ? tags.GPSAltitudeRef[0] : tags.GPSAltitudeRef;
  return { lat, lon, alt: ref === 1 ? -altitude : altitude };
}

function isoDate(value: unknown, offset: unknown): string | undefined {
  const match = typeof value === 'string' ? EXIF_DATE.exec(value.trim()) : null;
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match;
  const local = `${year}-${month}-${day}T${hour}:${minute}:${second}`;
  // Unset clocks write "0000:00:00 00:00:00"; let Date reject impossible values.
  if (Number.isNaN(Date.parse(`${local}Z`))) return undefined;
  const zone = typeof offset === 'string' && UTC_OFFSET.test(offset.trim()) ? offset.trim() : '';
  return `${local}${zone}`;
}

function text(value: unknown): string | undefined {
  // Cameras pad fixed-size ASCII fields with NULs and spaces.
  const trimmed = typeof value === 'string' ? value.replace(/\0/g, '').trim() : '';
  return trimmed === '' ? undefined : trimmed;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function positive(value: unknown): number | undefined {
  const number = finite(value);
  return number !== undefined && number > 0 ? number : undefined;
}

/** Copies only the defined values, so the result serialises without `undefined` holes. */
function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) Object.assign(target, { [key]: value });
  }
}
