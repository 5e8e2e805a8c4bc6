import { rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  type FfmpegToolOptions,
  ffprobePathFor,
  runFfmpeg,
  runProcess,
} from '../../../platform/media/run-ffmpeg.ts';
import { isRemote, URL_READS } from '../../../platform/media/url-reads.ts';
import { type MediaOutput, writeAtomically } from '../../ffmpeg/outputs.ts';
import type { PlannedRendition } from '../plan.ts';
import { mp4Rendition } from '../renditions.ts';
import { rungAudio } from './rung-audio.ts';

export interface AssembleOptions extends FfmpegToolOptions {
  /** Bits/s for the whole-track AAC; else the plan's (which may copy the source's track). */
  audioBitrate?: number;
}

/**
 * The downloadable faststart MP4 of one rung from its chunks (encodeChunk's MPEG-TS files, in order):
 * their video stream-copied, never re-encoded, and the audio encoded once, whole, from `audioSource`
 * (the original), so no chunk boundary can click or drift. The chunks' timestamps already continue one
 * another, so they are joined byte for byte (the `concatf` protocol, from a list file: no limit on the
 * count, no character of a path taken for a separator) rather than rebased file by file.
 */
export async function assembleRendition(
  chunkFiles: readonly string[],
  audioSource: string | undefined,
  rendition: PlannedRendition,
  outPath: string,
  options: AssembleOptions,
): Promise<MediaOutput> {
  const first = chunkFiles[0];
  if (!first) throw new Error(`no chunk to assemble the ${rendition.quality} rendition from`);
  if (chunkFiles.some((file) => /[\r\n]/.test(file))) throw new Error('a chunk path holds a line break');
  const audio = audioSource === undefined ? undefined : rungAudio(rendition.outputArgs, options.audioBitrate);
  // The chunks' audio (AAC's priming) starts before their video; the video must start at 0 as the
  // original's audio does, or the two drift apart by that lead.
  const lead = await videoLead(first, options);
  const list = `${outPath}.chunks`;
  await writeFile(list, `${chunkFiles.map((file) => resolve(file)).join('\n')}\n`);
  const [bytes = 0] = await writeAtomically([outPath], async ([temp = '']) => {
    await runFfmpeg(
      [
        ...['-itsoffset', String(-lead), '-f', 'mpegts', '-i', `concatf:${list}`],
        ...(audio && audio.kind !== 'none' && audioSource
          ? [...(isRemote(audioSource) ? URL_READS : []), '-i', audioSource]
          : []),
        ...['-map', '0:v:0', '-c:v', 'copy'],
        ...(audio?.kind === 'aac' ? ['-map', '1:a:0', ...audio.args] : []),
        ...(audio?.kind === 'copy' ? ['-map', '1:a:0', '-c:a', 'copy'] : []),
        ...(!audio || audio.kind === 'none' ? ['-an'] : []),
        ...['-map_metadata', '-1', '-map_chapters', '-1', '-movflags', '+faststart', '-f', 'mp4', temp],
      ],
      options,
    );
  }).finally(() => rm(list, { force: true }));
  return mp4Rendition(rendition, outPath, bytes);
}

/** Seconds from a chunk's first packet (of any stream) to its first video frame. */
async function videoLead(chunk: string, options: FfmpegToolOptions): Promise<number> {
  let csv = '';
  await runProcess(
    ffprobePathFor(options),
    ['-v', 'error', '-show_entries', 'format=start_time:stream=codec_type,start_time', '-of', 'csv', chunk],
    { ...options, onStdout: (text) => (csv += text) },
  );
  const rows = csv.split('\n').map((line) => line.trim().split(','));
  const start = Number(rows.find(([section]) => section === 'format')?.[1]);
  const video = Number(rows.find(([section, type]) => section === 'stream' && type === 'video')?.[2]);
  return Number.isFinite(start) && Number.isFinite(video) ? Math.max(0, video - start) : 0;
}
