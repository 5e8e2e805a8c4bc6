import type { MediaProbe } from '../../platform/media/probe.ts';
import { MediaInputError } from '../ffmpeg/media-input-error.ts';
import { type Size, scaledTo } from '../ffmpeg/sizes.ts';

export type AudioQuality = 'low' | 'medium' | 'high';

export interface AudioRungSpec {
  quality: AudioQuality;
  bitrate: number;
}

export const defaultAudioLadder: readonly AudioRungSpec[] = [
  { quality: 'low', bitrate: 64_000 },
  { quality: 'medium', bitrate: 128_000 },
  { quality: 'high', bitrate: 256_000 },
];

export interface AudioPlanOptions {
  ladder?: readonly AudioRungSpec[];
  /** A rung may exceed a lossy source's bitrate by this factor; more would spend bytes on nothing. */
  maxAboveSource?: number;
  coverArtShortSide?: number;
}

export interface PlannedAudioRendition {
  quality: AudioQuality;
  bitrate: number;
  /** ffmpeg arguments between the input and the output path. */
  outputArgs: string[];
}

export interface AudioPlan {
  durationSeconds?: number;
  /** Smallest first. */
  renditions: PlannedAudioRendition[];
  /** The attached picture to turn into the poster, when there is one. */
  coverArt?: Size & { stream: string };
}

/** Pure: AAC-LC M4A rungs the source can fill, and its cover art if it has one. */
export function planAudio(probe: MediaProbe, options: AudioPlanOptions = {}): AudioPlan {
  const audio = probe.audio;
  if (!audio) throw new MediaInputError('media_undecodable', 'the file has no audio stream');
  const ladder = [...(options.ladder ?? defaultAudioLadder)].sort((a, b) => a.bitrate - b.bitrate);
  // Lossless sources carry every bit a lossy rung could use, whatever their nominal bitrate.
  const sourceBitrate = audio.lossless ? undefined : (audio.bitrate ?? probe.bitrate);
  const ceiling =
    sourceBitrate === undefined ? Number.POSITIVE_INFINITY : sourceBitrate * (options.maxAboveSource ?? 1.25);
  const kept = ladder.filter((rung, i) => i === 0 || rung.bitrate <= ceiling);
  // Stereo at most, and 48 kHz at most: hi-res masters would spend a 64 kb/s rung on inaudible bands.
  const format = [
    ...((audio.channels ?? 2) > 2 ? ['-ac', '2'] : []),
    ...((audio.sampleRate ?? 0) > 48_000 ? ['-ar', '48000'] : []),
  ];
  const plan: AudioPlan = {
    ...(probe.durationSeconds !== undefined ? { durationSeconds: probe.durationSeconds } : {}),
    renditions: kept.map((rung) => ({
      quality: rung.quality,
      bitrate: rung.bitrate,
      outputArgs: [
        ...['-map', '0:a:0', '-map_metadata', '-1', '-map_chapters', '-1'],
        ...['-c:a', 'aac', '-b:a', String(rung.bitrate), ...format, '-movflags', '+faststart', '-f', 'mp4'],
      ],
    })),
  };
  const cover = probe.coverArt;
  if (cover && cover.width > 0 && cover.height > 0) {
    const shortSide = Math.min(cover.width, cover.height, options.coverArtShortSide ?? 1080);
    plan.coverArt = { stream: `0:${cover.index}`, ...scaledTo(cover, shortSide) };
  }
  return plan;
}
