import { type Static, Type } from '@sinclair/typebox';

/**
 * One rung of the video ladder: its short side (1080 means 1920×1080 landscape or 1080×1920 portrait)
 * and its video bitrate. `quality` names its variant: the first three rungs keep the names clients have
 * always read (`low` 360p, `medium` 720p, `high` 1080p); any other height is named by its label (`480p`).
 */
export const VideoRungSchema = Type.Object({
  quality: Type.String({ minLength: 1 }),
  height: Type.Integer({ minimum: 144, maximum: 4320, multipleOf: 2 }),
  videoKbps: Type.Integer({ minimum: 100, maximum: 100_000 }),
});
export type VideoRung = Static<typeof VideoRungSchema>;
export const VideoLadderSchema = Type.Array(VideoRungSchema, { minItems: 1, maxItems: 8 });

export const DEFAULT_VIDEO_LADDER = '1080p:5000,720p:2800,480p:1400,360p:800';

const LEGACY_NAMES: Record<number, string> = { 360: 'low', 720: 'medium', 1080: 'high' };

/**
 * `VIDEO_LADDER`: comma-separated `<height>p:<kb/s>` rungs in any order, returned smallest first. Throws
 * with the variable's name on anything else, so a typo stops the process at start-up, not at the first
 * upload.
 */
export function parseVideoLadder(raw: string): VideoRung[] {
  const fail = (why: string): never => {
    throw new Error(`Invalid configuration: VIDEO_LADDER ${why} (got "${raw}")`);
  };
  const rungs = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const match = /^(\d{3,4})p:(\d{3,6})$/.exec(entry);
      if (!match) return fail(`entries are <height>p:<kb/s>, like 720p:2800; "${entry}" is not`);
      const height = Number(match[1]);
      return { quality: LEGACY_NAMES[height] ?? `${height}p`, height, videoKbps: Number(match[2]) };
    })
    .sort((a, b) => a.height - b.height);
  if (rungs.length === 0) fail('names no rung');
  if (new Set(rungs.map((rung) => rung.height)).size !== rungs.length) fail('repeats a height');
  return rungs;
}
