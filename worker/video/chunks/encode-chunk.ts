import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type FfmpegProgress,
  type FfmpegToolOptions,
  runFfmpeg,
} from '../../../platform/media/run-ffmpeg.ts';
import { isRemote, URL_READS } from '../../../platform/media/url-reads.ts';
import { writeAtomically } from '../../ffmpeg/outputs.ts';
import { settleAll } from '../../settle-all.ts';
import type { PlannedRendition, RungName } from '../plan.ts';
import { keyframeDecodeLead } from './copy-end.ts';
import type { ChunkSpan } from './plan-chunks.ts';
import { withoutRotatedCopies } from './rotated-copies.ts';
import { argValue, type RungAudio, rungAudio } from './rung-audio.ts';

export interface ChunkOutput {
  quality: RungName;
  /** `<outDir>/<quality>.ts`: one HLS segment, timestamps on the source's timeline. */
  path: string;
  durationSeconds: number;
  size: number;
}

export interface EncodeChunkOptions extends FfmpegToolOptions {
  /** The source has an audio track and the segments carry it (an HLS segment holds both). */
  withAudio: boolean;
  /** Bits/s per rung for the chunk's AAC; else the plan's own, and a plan that copies audio copies it. */
  audioBitrates?: Partial<Record<RungName, number>>;
  onProgress?: (fraction: number) => void;
  /** The source's display rotation, when the caller has probed it: saves a probe per call with a copy. */
  sourceRotation?: number;
  /**
   * Threads for the decoder, the filters and each encoder (ffmpeg's choice by default). `1` for work
   * nobody waits on: a single-threaded encode of a chunk was measured to spend a fifth less CPU (threads
   * synchronising cost about as much system time), and the fleet's jobs in parallel fill the cores anyway.
   */
  threads?: number;
}

// Cut instants come from ffprobe's microsecond-rounded times: seeking this much early keeps the frame
// that starts the span whichever way it was rounded, and no earlier frame (none is this close).
const SEEK_EARLY_SECONDS = 0.001;
// The demuxer stops a little past the span; the filters cut it exactly.
const READ_PAST_SECONDS = 1;

/**
 * Encodes one span of the source for every rendition in one ffmpeg process: the span is decoded once
 * (accurate seek, so any instant may start it), split and scaled per transcoded rung, and each rung
 * written as an MPEG-TS segment at `<outDir>/<quality>.ts` whose timestamps continue the previous
 * chunk's, so the segments play back to back and concatenate without re-encoding. The plan's own
 * encoder arguments are used (frame rate, bitrate caps, a keyframe every 2 s from the chunk's first
 * frame, no scene-cut keyframes); x264's GOPs are closed. A `remux` rendition is a stream copy of the
 * same span (its cuts are source keyframes), in a process of its own; a rotated source's is encoded
 * instead (withoutRotatedCopies). `input` is a path or an http(s) URL read by ranges. Files appear only
 * complete.
 */
export async function encodeChunk(
  input: string,
  span: ChunkSpan,
  renditions: readonly PlannedRendition[],
  outDir: string,
  options: EncodeChunkOptions,
): Promise<ChunkOutput[]> {
  await mkdir(outDir, { recursive: true });
  const { onProgress, withAudio: _, audioBitrates: __, sourceRotation, threads, ...tools } = options;
  const planned = await withoutRotatedCopies(input, renditions, { ...tools, rotation: sourceRotation });
  const transcoded = planned.filter((rendition) => rendition.mode === 'transcode');
  const cut = cutOf(span, frameRateOf(transcoded));
  const copied = planned.filter((rendition) => rendition.mode === 'remux');
  const path = (rendition: PlannedRendition) => join(outDir, `${rendition.quality}.ts`);
  await writeAtomically(renditions.map(path), async (temps) => {
    const temp = (rendition: PlannedRendition) => temps[planned.indexOf(rendition)] as string;
    const reads = [
      ...(threads === undefined
        ? []
        : ['-threads', String(threads), '-filter_complex_threads', String(threads)]),
      ...['-ss', String(cut.seekAt), '-t', String(round6(cut.to + READ_PAST_SECONDS))],
    ];
    const source = [...reads, ...(isRemote(input) ? URL_READS : []), '-i', input];
    const progress = onProgress
      ? { onProgress: (p: FfmpegProgress) => p.fraction !== undefined && onProgress(p.fraction) }
      : {};
    // The copy is its own process: beside a decoding output, ffmpeg ends a copied stream a frame late.
    const copy = async (rendition: PlannedRendition) => {
      const lead = await keyframeDecodeLead(input, span.endSeconds, tools);
      const inputs = copyInputs(input, cut, lead, options.withAudio);
      await runFfmpeg([...inputs, ...copyOutput(cut, options.withAudio, temp(rendition))], tools);
    };
    await settleAll([
      transcoded.length === 0
        ? Promise.resolve()
        : runFfmpeg([...source, ...transcodeOutputs(transcoded, cut, temp, options)], {
            ...tools,
            durationSeconds: round6(cut.to - cut.from),
            ...progress,
          }),
      ...copied.map(copy),
    ]);
  });
  return Promise.all(
    renditions.map(async (rendition) => ({
      quality: rendition.quality,
      path: path(rendition),
      durationSeconds: round6(span.endSeconds - span.startSeconds),
      size: (await stat(path(rendition))).size,
    })),
  );
}

/** Where ffmpeg seeks for a span, and the span's bounds on the timeline that seek gives (0 = seekAt). */
interface Cut {
  seekAt: number;
  from: number;
  to: number;
  /**
   * The source instant the encoded chunk's timeline starts at: the first instant of the output frame
   * rate's grid at or after the span's start. A constant-rate encode numbers frames from its start, so a
   * chunk cut between two frames (a fixed grid at 29.97 fps) keeps its frames on the source's instants.
   */
  origin: number;
  /** The plan's constant output rate (`30000/1001`), when its rungs share one. */
  frameRate?: string;
}

function cutOf(span: ChunkSpan, frameRate: string | undefined): Cut {
  const seekAt = Math.max(0, round6(span.startSeconds - SEEK_EARLY_SECONDS));
  const [numerator, denominator = '1'] = (frameRate ?? '').split('/');
  const rate = Number(numerator) / Number(denominator);
  const known = Number.isFinite(rate) && rate > 0;
  const onGrid = known ? Math.ceil(span.startSeconds * rate - 1e-3) / rate : span.startSeconds;
  return {
    seekAt,
    from: round6(span.startSeconds - seekAt),
    to: round6(span.endSeconds - seekAt),
    origin: round6(Math.max(span.startSeconds, onGrid)),
    ...(known && frameRate ? { frameRate } : {}),
  };
}

/** `-r` as the plan writes it (`30`, `30000/1001`), when every rung says the same. */
function frameRateOf(renditions: readonly PlannedRendition[]): string | undefined {
  const rates = new Set(renditions.map((rendition) => argValue(rendition.outputArgs, '-r')));
  return rates.size === 1 ? [...rates][0] : undefined;
}

const OUTPUT_COMMON = ['-map_metadata', '-1', '-map_chapters', '-1', '-sn', '-dn'];
// Else ffmpeg shifts the first chunk alone by its B-frame delay; MPEG-TS needs no such shift.
const MPEGTS = ['-avoid_negative_ts', 'disabled', '-f', 'mpegts'];

function transcodeOutputs(
  transcoded: readonly PlannedRendition[],
  cut: Cut,
  temp: (rendition: PlannedRendition) => string,
  options: EncodeChunkOptions,
): string[] {
  const audio = transcoded.map(
    (rendition): RungAudio =>
      options.withAudio
        ? rungAudio(rendition.outputArgs, options.audioBitrates?.[rendition.quality])
        : { kind: 'none' },
  );
  const encoded = audio.flatMap((choice, i) => (choice.kind === 'aac' ? [i] : []));
  return [
    ...['-filter_complex', filterGraph(transcoded, encoded, cut)],
    ...transcoded.flatMap((rendition, i) => [
      ...['-map', `[v${i}]`, ...videoEncoderArgs(rendition.outputArgs)],
      ...(options.threads === undefined ? [] : ['-threads', String(options.threads)]),
      ...audioOutput(audio[i] ?? { kind: 'none' }, i),
      ...OUTPUT_COMMON,
      // Ends a copied audio track; the graph has cut the rest. The offset puts the graph's 0 (the
      // origin) back where it is in the source.
      ...['-t', String(round6(cut.to - cut.from)), '-output_ts_offset', String(cut.origin)],
      ...MPEGTS,
      temp(rendition),
    ]),
  ];
}

function audioOutput(choice: RungAudio, i: number): string[] {
  if (choice.kind === 'none') return ['-an'];
  // A track the plan copies is copied here too: whole AAC frames, so a boundary is off by < 1 frame.
  if (choice.kind === 'copy') return ['-map', '0:a:0', '-c:a', 'copy', '-copypriorss', '0'];
  return ['-map', `[a${i}]`, ...choice.args];
}

/**
 * The source read twice from the span's start: its video to the next chunk's keyframe in decode order
 * (`decodeLead` before its time, keyframeDecodeLead: a B-frame stream decodes that keyframe before the
 * frames shown ahead of it), its audio a little past the span's end.
 */
function copyInputs(input: string, cut: Cut, decodeLead: number | undefined, withAudio: boolean): string[] {
  const from = (seconds: number) => [
    ...['-ss', String(cut.seekAt), '-t', String(round6(seconds))],
    ...(isRemote(input) ? URL_READS : []),
    ...['-i', input],
  ];
  const past = cut.to + READ_PAST_SECONDS;
  // A millisecond short of that keyframe: frames are further apart, timestamps rounded to microseconds.
  return [
    ...from(decodeLead === undefined ? past : cut.to - decodeLead - 0.001),
    ...(withAudio ? from(past) : []),
  ];
}

/**
 * The source's packets of the span as they are (copyInputs): it starts on a keyframe, so nothing before
 * it is needed (`-copypriorss 0` drops the packets the seek landed on before it), and `-t` ends the audio
 * where the next chunk's starts.
 */
function copyOutput(cut: Cut, withAudio: boolean, path: string): string[] {
  return [
    ...['-map', '0:V:0', '-c:v', 'copy', '-copypriorss', '0'],
    ...(withAudio ? ['-map', '1:a:0?', '-c:a', 'copy'] : ['-an']),
    ...OUTPUT_COMMON,
    ...['-t', String(round6(cut.to - cut.from)), '-output_ts_offset', String(cut.seekAt), ...MPEGTS, path],
  ];
}

/**
 * One decode of the span, cut exactly to it (`trim` by timestamp, not by a duration counted from the
 * first frame kept), split to each transcoded rung's own `-vf` from the plan (its scale); audio cut the
 * same way and split per rung.
 */
function filterGraph(
  transcoded: readonly PlannedRendition[],
  encodedAudio: readonly number[],
  cut: Cut,
): string {
  const zero = round6(cut.origin - cut.seekAt);
  const length = round6(cut.to - zero);
  const pads = (prefix: string, indexes: readonly number[]) => indexes.map((i) => `[${prefix}${i}]`).join('');
  // At a constant rate the frames past the span come too: the rate conversion fills the span's last
  // slots from the next frame's timestamp, as a single pass over the whole video does (a variable-rate
  // source's gap at a cut), and its own start slot from the first frame; then the span is cut exactly.
  const steady = cut.frameRate
    ? `trim=start=${cut.from}:end=${round6(cut.to + READ_PAST_SECONDS)},setpts=PTS-${zero}/TB,fps=fps=${cut.frameRate}:start_time=0,trim=end=${length}`
    : `trim=start=${cut.from}:end=${cut.to},setpts=PTS-${zero}/TB`;
  const video = [
    `[0:V:0]${steady},split=${transcoded.length}${pads(
      's',
      transcoded.map((_, i) => i),
    )}`,
    ...transcoded.map((rendition, i) => `[s${i}]${argValue(rendition.outputArgs, '-vf') ?? 'null'}[v${i}]`),
  ];
  const audio = encodedAudio.length
    ? [
        `[0:a:0]atrim=start=${cut.from}:end=${cut.to},asetpts=PTS-${zero}/TB,asplit=${encodedAudio.length}${pads('a', encodedAudio)}`,
      ]
    : [];
  return [...video, ...audio].join(';');
}

// The plan's arguments that do not concern the video encoder here: maps and the filter (the graph
// replaces them), audio (chosen per chunk), metadata (set per output) and the MP4 muxer's.
const NOT_VIDEO_ENCODER = new Set([
  '-map',
  '-vf',
  '-map_metadata',
  '-map_chapters',
  '-c:a',
  '-b:a',
  '-ac',
  '-ar',
  '-movflags',
  '-f',
]);
const FLAGS_WITHOUT_VALUE = new Set(['-sn', '-dn', '-an']);

/** The plan's video encoder arguments (codec, rate, bitrate caps, keyframe grid), with GOPs closed. */
function videoEncoderArgs(outputArgs: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < outputArgs.length; i++) {
    const flag = outputArgs[i] as string;
    if (FLAGS_WITHOUT_VALUE.has(flag)) continue;
    const value = outputArgs[i + 1];
    i++;
    if (!NOT_VIDEO_ENCODER.has(flag) && value !== undefined) kept.push(flag, value);
  }
  // x264's default already; said here because a segment that starts a player must decode alone.
  return [...kept, '-flags', '+cgop'];
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
