import type { ErrorCode } from '../../contracts/errors.ts';
import type { MediaKind } from '../../contracts/media-types.ts';
import type { Verdict } from '../../platform/moderation/moderation.ts';
import type { ApiContext } from '../context.ts';
import { countedReads } from './counted-reads.ts';
import { moderate } from './moderate.ts';
import { ffprobeUrl, ProbeFailedError, type ProbeSummary, probeImageHead } from './probe.ts';
import { withRangeWindows } from './range-window-server.ts';
import { declaredMatches, sniffFamily } from './sniff.ts';

export interface GateSubject {
  objectKey: string;
  contentType: string;
  kind: MediaKind;
  declaredSize: number;
}

export interface Passed {
  ok: true;
  probe: ProbeSummary;
  /** `pending` when a vendor judges asynchronously; its webhook may still take the media down. */
  moderation: { status: 'allowed' | 'pending' | 'skipped'; jobId?: string };
}
export type GateVerdict = Passed | { ok: false; code: ErrorCode; detail: string };

const imageHeadBytes = 1024 * 1024;
const sniffBytes = 4096;

/** The gate, timed by outcome, with the bytes it read from storage. */
export async function runGate(ctx: ApiContext, mediaId: string, subject: GateSubject): Promise<GateVerdict> {
  const started = performance.now();
  const reads = countedReads(ctx.storage);
  let outcome = 'error';
  try {
    const verdict = await judgeUpload({ ...ctx, storage: reads.storage }, mediaId, subject);
    outcome = verdict.ok ? 'passed' : 'rejected';
    return verdict;
  } finally {
    ctx.metrics.gateDuration.observe({ kind: subject.kind, outcome }, (performance.now() - started) / 1000);
    ctx.metrics.gateReadBytes.observe({ kind: subject.kind }, reads.bytes());
  }
}

/**
 * The synchronous safety gate run at completion. Cheapest checks first; nothing here reads the whole
 * object: one ranged read of its first bytes (which also gives its size), and a probe that range-reads what
 * it needs.
 */
async function judgeUpload(ctx: ApiContext, mediaId: string, subject: GateSubject): Promise<GateVerdict> {
  const firstBytes = subject.kind === 'image' ? imageHeadBytes : sniffBytes;
  const head = await ctx.storage.readHead(subject.objectKey, firstBytes);
  if (!head)
    return { ok: false, code: 'media_unreadable', detail: 'storage holds no object for this upload' };
  if (head.size !== subject.declaredSize) {
    return {
      ok: false,
      code: 'size_mismatch',
      detail: `declared ${subject.declaredSize} bytes, uploaded ${head.size}`,
    };
  }
  const bytes = head.bytes;
  const family = sniffFamily(bytes);
  // Like every gate rejection this is a 422: the request was fine, the uploaded bytes are not.
  if (!declaredMatches(subject.contentType, family)) {
    return {
      ok: false,
      code: 'type_mismatch',
      detail: `declared ${subject.contentType}, content is ${family ?? 'not a recognised media format'}`,
    };
  }

  let probe: ProbeSummary;
  let verdict: Verdict | undefined;
  try {
    probe =
      subject.kind === 'image'
        ? await probeImageHead(bytes, head.size, (start, end) =>
            ctx.storage.readRange(subject.objectKey, start, end),
          )
        : await probeRemote(ctx, subject.objectKey, head.size);
    const judged = judgeProbe(ctx, subject.kind, probe);
    if (judged) return judged;
    verdict = await moderate(ctx, mediaId, subject, probe, bytes);
  } catch (error) {
    if (!(error instanceof ProbeFailedError)) throw error;
    return { ok: false, code: 'media_unreadable', detail: error.message };
  }
  if (verdict?.decision === 'reject') {
    const worst = verdict.categories.map((c) => `${c.name} ${c.score.toFixed(2)}`).join(', ');
    return { ok: false, code: 'moderation_rejected', detail: `rejected for ${worst}` };
  }
  const moderation: Passed['moderation'] =
    verdict === undefined
      ? { status: 'skipped' }
      : verdict.decision === 'pending'
        ? { status: 'pending', jobId: verdict.vendorJobId }
        : { status: 'allowed' };
  return { ok: true, probe, moderation };
}

async function probeRemote(ctx: ApiContext, objectKey: string, size: number): Promise<ProbeSummary> {
  return withRangeWindows(ctx.storage, objectKey, size, (url) =>
    ffprobeUrl(url, ctx.config.gate.probeTimeoutMs, ctx.config.ffprobePath),
  );
}

/** Codecs of single pictures, which audio files carry as cover art even when not flagged as such. */
const stillCodecs = new Set(['mjpeg', 'png', 'bmp', 'gif', 'webp']);

/** A failed verdict when the probe shows the media cannot be accepted; undefined when it can. */
function judgeProbe(ctx: ApiContext, kind: MediaKind, probe: ProbeSummary): GateVerdict | undefined {
  if (kind === 'image') {
    const pixels = (probe.width ?? 0) * (probe.height ?? 0);
    if (pixels > ctx.config.image.maxInputPixels) {
      return {
        ok: false,
        code: 'image_too_large',
        detail: `${probe.width}×${probe.height} exceeds ${ctx.config.image.maxInputPixels} pixels`,
      };
    }
  }
  if (kind === 'video' && !probe.hasVideo)
    return { ok: false, code: 'media_unreadable', detail: 'no video stream' };
  if (kind === 'video' && (probe.width ?? 0) * (probe.height ?? 0) > ctx.config.video.maxPixels) {
    return {
      ok: false,
      code: 'video_too_large',
      detail: `${probe.width}×${probe.height} frames exceed ${ctx.config.video.maxPixels} pixels`,
    };
  }
  // Cover art is a picture stream, not video; anything that moves is a video whatever it was declared as,
  // and accepted as audio it would become an "audio" media with video renditions and unmoderated frames.
  if (kind === 'audio' && probe.hasVideo && !stillCodecs.has(probe.videoCodec ?? '')) {
    return {
      ok: false,
      code: 'type_mismatch',
      detail: `declared as audio, but the file holds a ${probe.videoCodec} video stream: upload it as video`,
    };
  }
  if (kind === 'audio' && !probe.hasAudio)
    return { ok: false, code: 'media_unreadable', detail: 'no audio stream' };
  return undefined;
}
