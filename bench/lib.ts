import sharp from 'sharp';

export interface PhotoOptions {
  /** EXIF orientation to tag the JPEG with; phones store portrait shots as landscape + 6. */
  orientation?: number;
  /** Embedded colour profile; iPhones tag Display P3, which makes decoders run an ICC transform. */
  iccProfile?: 'srgb' | 'p3';
  quality?: number;
  seed?: number;
}

/** Deterministic PRNG so bench inputs are identical across runs and machines. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A JPEG whose content costs encoders roughly what a photo does: gradients and low-frequency
 * waves (sky, walls), hard-edged bands, and fine sensor-like noise. Flat colour or pure noise
 * would make WebP encoding unrealistically cheap or expensive and skew any comparison.
 */
export async function makePhotoLikeJpeg(
  width: number,
  height: number,
  options: PhotoOptions = {},
): Promise<Buffer> {
  const random = mulberry32(options.seed ?? 1);
  // sin(a·x + b·y + p) = sin(a·x)·cos(b·y + p) + cos(a·x)·sin(b·y + p): per-column tables keep
  // a 12 MP image at a few hundred milliseconds instead of seconds of Math.sin calls.
  const waves = Array.from({ length: 6 }, () => {
    const fx = ((random() * 8 + 1) * Math.PI * 2) / width;
    return {
      sinX: Float64Array.from({ length: width }, (_, x) => Math.sin(fx * x)),
      cosX: Float64Array.from({ length: width }, (_, x) => Math.cos(fx * x)),
      fy: ((random() * 8 + 1) * Math.PI * 2) / height,
      phase: random() * Math.PI * 2,
      amplitude: random() * 40 + 10,
    };
  });
  const pixels = Buffer.allocUnsafe(width * height * 3);
  const edgeX = Math.floor(width * 0.6);
  for (let y = 0; y < height; y++) {
    const rowBase = 60 + (y / height) * 90;
    const rowWaves = waves.map((wave) => ({
      sinY: wave.amplitude * Math.sin(wave.fy * y + wave.phase),
      cosY: wave.amplitude * Math.cos(wave.fy * y + wave.phase),
    }));
    const band = ((y >> 6) & 1) === 0 ? 35 : 0;
    for (let x = 0; x < width; x++) {
      let base = rowBase + (x / width) * 40 + (x > edgeX ? band : 0);
      for (let w = 0; w < waves.length; w++) {
        const wave = waves[w] as (typeof waves)[number];
        const row = rowWaves[w] as (typeof rowWaves)[number];
        base += (wave.sinX[x] as number) * row.cosY + (wave.cosX[x] as number) * row.sinY;
      }
      const noise = (random() - 0.5) * 24;
      const offset = (y * width + x) * 3;
      pixels[offset] = clampByte(base + noise + 20);
      pixels[offset + 1] = clampByte(base * 0.9 + noise);
      pixels[offset + 2] = clampByte(base * 0.7 + noise + (x / width) * 50);
    }
  }
  let pipeline = sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({
    quality: options.quality ?? 88,
  });
  // withMetadata attaches sRGB, so an explicit profile has to come after it.
  if (options.orientation !== undefined)
    pipeline = pipeline.withMetadata({ orientation: options.orientation });
  if (options.iccProfile) pipeline = pipeline.withIccProfile(options.iccProfile);
  return pipeline.toBuffer();
}

function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
}

export interface Timing {
  iterations: number;
  perSecond: number;
  meanMs: number;
  medianMs: number;
  /** Process CPU per iteration: the cost under load, which wall time on an idle machine hides. */
  cpuMsPerIteration: number;
}

/**
 * Times each case `iterations` times after `warmups` untimed runs, alternating between cases so
 * that background load and thermal drift hit all of them alike.
 */
export async function timeInterleaved<Name extends string>(
  cases: Record<Name, () => Promise<unknown>>,
  iterations: number,
  warmups = 1,
): Promise<Record<Name, Timing>> {
  const names = Object.keys(cases) as Name[];
  const samples = new Map(names.map((name) => [name, { wall: [] as number[], cpu: 0 }]));
  for (let round = -warmups; round < iterations; round++) {
    for (const name of names) {
      const cpuBefore = process.cpuUsage();
      const start = performance.now();
      await cases[name]();
      const wall = performance.now() - start;
      const cpu = process.cpuUsage(cpuBefore);
      const sample = samples.get(name);
      if (round >= 0 && sample) {
        sample.wall.push(wall);
        sample.cpu += (cpu.user + cpu.system) / 1000;
      }
    }
  }
  const timings = {} as Record<Name, Timing>;
  for (const [name, { wall, cpu }] of samples) {
    const total = wall.reduce((sum, ms) => sum + ms, 0);
    const sorted = wall.toSorted((a, b) => a - b);
    timings[name] = {
      iterations,
      perSecond: (iterations * 1000) / total,
      meanMs: total / iterations,
      medianMs:
        ((sorted[Math.floor((iterations - 1) / 2)] ?? 0) + (sorted[Math.ceil((iterations - 1) / 2)] ?? 0)) /
        2,
      cpuMsPerIteration: cpu / iterations,
    };
  }
  return timings;
}

/** Prints rows as a right-aligned plain-text table; the first row is the header. */
export function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const [index, row] of rows.entries()) {
    console.log(row.map((cell, column) => cell.padStart(widths[column] ?? 0)).join('  '));
    if (index === 0) console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  }
}
