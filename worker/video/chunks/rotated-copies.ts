import { type MediaProbe, probeMedia } from '../../../platform/media/probe.ts';
import type { FfmpegToolOptions } from '../../../platform/media/run-ffmpeg.ts';
import { type PlannedRendition, planVideo } from '../plan.ts';

// Only when neither the stream nor the container states one; the remux rule kept it near the rung's.
const UNKNOWN_SOURCE_BITRATE = 2_000_000;
const UNKNOWN_AUDIO_BITRATE = 128_000;

/**
 * MPEG-TS has no display matrix, so a copied rung of a rotated source would play sideways in HLS while
 * the encoded rungs play upright (the defect issue 12 names). Such a rung is encoded instead, planned by
 * planVideo as a transcode at the rung's size and the source's own bitrate; the others pass as they are.
 * Probes the input only when a copy is asked for and the caller did not say the source is upright.
 */
export async function withoutRotatedCopies(
  input: string,
  renditions: readonly PlannedRendition[],
  options: FfmpegToolOptions & { rotation?: number | undefined },
): Promise<PlannedRendition[]> {
  const { rotation, ...tools } = options;
  if (rotation === 0 || !renditions.some((rendition) => rendition.mode === 'remux')) return [...renditions];
  const probe = await probeMedia(input, tools);
  if (!probe.video || probe.video.rotation === 0) return [...renditions];
  return renditions.map((rendition) => (rendition.mode === 'remux' ? encoded(probe, rendition) : rendition));
}

function encoded(probe: MediaProbe, rendition: PlannedRendition): PlannedRendition {
  const rung = {
    quality: rendition.quality,
    height: Math.min(rendition.width, rendition.height),
    videoBitrate: probe.video?.bitrate ?? probe.bitrate ?? UNKNOWN_SOURCE_BITRATE,
    audioBitrate: probe.audio?.bitrate ?? UNKNOWN_AUDIO_BITRATE,
  };
  const [planned] = planVideo(probe, { ladder: [rung], remuxMaxBitrateRatio: 0 }).renditions;
  if (!planned) throw new Error(`no encode planned for the ${rendition.quality} rung`);
  return planned;
}
