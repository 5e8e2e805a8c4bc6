export interface Size {
  width: number;
  height: number;
}

/**
 * Scales `source` so its short side is `shortSide`, keeping the aspect ratio and orientation, never
 * above the source, with even dimensions (H.264 4:2:0 needs them).
 */
export function scaledTo(source: Size, shortSide: number): Size {
  const sourceShort = Math.min(source.width, source.height);
  const sourceLong = Math.max(source.width, source.height);
  const short = Math.min(evenFloor(shortSide), evenFloor(sourceShort));
  const long = Math.min(
    Math.max(2, Math.round((sourceLong * short) / sourceShort / 2) * 2),
    evenFloor(sourceLong),
  );
  return source.width >= source.height ? { width: long, height: short } : { width: short, height: long };
}

function evenFloor(value: number): number {
  return Math.max(2, Math.floor(value / 2) * 2);
}
