import { spawn } from 'node:child_process';
import { basename, isAbsolute } from 'node:path';
import type { Readable } from 'node:stream';
import { isRemote } from './url-reads.ts';

export interface FfmpegProgress {
  outTimeSeconds: number;
  /** 0..1, only when the caller told us the input duration. */
  fraction?: number;
  /** Multiple of real time, e.g. 2.5 for "2.5x". */
  speed?: number;
}

/**
 * What every ffmpeg/ffprobe call accepts; the paths come from configuration (`FFMPEG_PATH`, `FFPROBE_PATH`),
 * never the environment.
 */
export interface MediaTools {
  ffmpegPath?: string;
  /** Defaults to `ffprobe` beside `ffmpegPath`. */
  ffprobePath?: string;
}

export interface FfmpegToolOptions extends MediaTools {
  /** Per process: the process is SIGKILLed past it. */
  timeoutMs?: number;
  /** Shutdown: kills the running process at once. */
  signal?: AbortSignal;
  /**
   * Runs the tool under `nice` (1–19): work nobody waits for yields the cores to work a viewer waits
   * for (a chunked video's first segments) and takes them back when those are idle.
   */
  niceness?: number;
}

export interface RunFfmpegOptions extends FfmpegToolOptions {
  durationSeconds?: number;
  onProgress?: (progress: FfmpegProgress) => void;
}

export type FfmpegFailure = 'exit' | 'timeout' | 'aborted';

// A stuck decoder should not hold a worker slot for ever; long inputs pass a larger budget.
const DEFAULT_TIMEOUT_MS = 30 * 60_000;
const STDERR_TAIL_CHARS = 4096;
const STDERR_TAIL_LINES = 15;

/** ffmpeg or ffprobe ran and did not finish cleanly; `stderrTail` says why in ffmpeg's own words. */
export class FfmpegError extends Error {
  readonly reason: FfmpegFailure;
  readonly exitCode: number | null;
  readonly stderrTail: string;

  constructor(reason: FfmpegFailure, exitCode: number | null, stderrTail: string, tool: string) {
    const what = {
      exit: `exited with code ${exitCode}`,
      timeout: 'timed out',
      aborted: 'was aborted',
    }[reason];
    const lastLine = stderrTail.split('\n').at(-1) ?? '';
    super(`${tool} ${what}${lastLine ? `: ${lastLine}` : ''}`);
    this.name = 'FfmpegError';
    this.reason = reason;
    this.exitCode = exitCode;
    this.stderrTail = stderrTail;
  }
}

export function ffprobePathFor(options: FfmpegToolOptions): string {
  if (options.ffprobePath) return options.ffprobePath;
  const ffmpeg = options.ffmpegPath ?? 'ffmpeg';
  return ffmpeg.replace(/ffmpeg([^/\\]*)$/, 'ffprobe$1');
}

export interface ProcessOptions extends FfmpegToolOptions {
  onStdout?: (chunk: string) => void;
  /** Extra output pipes (fd 3, 4, …, as `pipe:3` names them), collected whole: small outputs only. */
  outputPipes?: number;
  /** Per output pipe; more is a runaway output and kills the process. */
  maxPipeBytes?: number;
}

const DEFAULT_MAX_PIPE_BYTES = 16 * 1024 * 1024;

/**
 * Spawns a tool and settles once it has exited (never earlier, so callers may delete its outputs), with
 * what each extra output pipe carried. Stdout goes to `onStdout` as it arrives and only the tail of stderr
 * is kept: memory stays bounded whatever the tool prints. A failure to spawn (missing binary) rejects
 * with the system error as is.
 */
export function runProcess(
  command: string,
  args: readonly string[],
  options: ProcessOptions,
): Promise<Buffer[]> {
  // Named by its file name: an error message is no place for the install path.
  const tool = basename(command);
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new FfmpegError('aborted', null, '', tool));
      return;
    }
    const pipes = options.outputPipes ?? 0;
    // `nice` execs the tool in its own process, so its threads are all niced from their start (a
    // priority set on the pid after spawn would miss the threads started before it).
    const niced = options.niceness ? ['-n', String(options.niceness), command, ...args] : undefined;
    const child = spawn(niced ? 'nice' : command, niced ?? args, {
      stdio: ['ignore', 'pipe', 'pipe', ...Array.from({ length: pipes }, () => 'pipe' as const)],
    });
    let stderr = '';
    let killedFor: FfmpegFailure | undefined;
    let spawnError: Error | undefined;
    const kill = (reason: FfmpegFailure) => {
      killedFor ??= reason;
      // SIGKILL rather than SIGTERM: ffmpeg would spend time finalising an output we are about to delete.
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => kill('timeout'), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const onAbort = () => kill('aborted');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const stdout = child.stdout as Readable;
    stdout.setEncoding('utf8');
    stdout.on('data', (chunk: string) => options.onStdout?.(chunk));
    const maxPipeBytes = options.maxPipeBytes ?? DEFAULT_MAX_PIPE_BYTES;
    const outputs = Array.from({ length: pipes }, (_, i) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      (child.stdio[3 + i] as Readable).on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > maxPipeBytes) kill('exit');
        else chunks.push(chunk);
      });
      return chunks;
    });
    const stderrStream = child.stderr as Readable;
    stderrStream.setEncoding('utf8');
    stderrStream.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    child.on('error', (error) => {
      spawnError = error;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (spawnError) reject(spawnError);
      else if (killedFor) reject(new FfmpegError(killedFor, code, tail(stderr, args), tool));
      else if (code !== 0) reject(new FfmpegError('exit', code, tail(stderr, args), tool));
      else resolve(outputs.map((chunks) => Buffer.concat(chunks)));
    });
  });
}

/**
 * The last lines of stderr, without the addresses ffmpeg prefixes its messages with: a failure's detail
 * reaches the media's owner and webhooks, and must not carry a presigned URL, an internal host and port,
 * or the worker's temp paths. A URL becomes `input`, a path its file name.
 */
function tail(stderr: string, args: readonly string[]): string {
  let text = stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
  for (const arg of args) {
    if (isRemote(arg)) text = text.replaceAll(arg, 'input');
    else if (isAbsolute(arg)) text = text.replaceAll(arg, basename(arg));
  }
  return text.replace(/https?:\/\/[^\s'"]+/g, 'input');
}

/**
 * Runs ffmpeg with `args` (inputs and outputs; the common flags are added here) and reports progress
 * from `-progress pipe:1`, which prints `key=value` blocks ending in `progress=continue|end`.
 */
export function runFfmpeg(
  args: readonly string[],
  options: RunFfmpegOptions & Pick<ProcessOptions, 'outputPipes' | 'maxPipeBytes'> = {},
): Promise<Buffer[]> {
  const common = ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-y'];
  const progressArgs = options.onProgress ? ['-progress', 'pipe:1'] : [];
  return runProcess(options.ffmpegPath ?? 'ffmpeg', [...common, ...progressArgs, ...args], {
    ...options,
    onStdout: options.onProgress ? progressParser(options.onProgress, options.durationSeconds) : undefined,
  });
}

function progressParser(
  onProgress: (progress: FfmpegProgress) => void,
  durationSeconds: number | undefined,
): (chunk: string) => void {
  let partial = '';
  let outTimeSeconds = 0;
  let speed: number | undefined;
  return (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const [key, value = ''] = line.trim().split('=', 2);
      if (key === 'out_time_us') {
        const micros = Number(value);
        if (Number.isFinite(micros) && micros >= 0) outTimeSeconds = micros / 1e6;
      } else if (key === 'speed') {
        const parsed = Number.parseFloat(value);
        speed = Number.isFinite(parsed) ? parsed : undefined;
      } else if (key === 'progress') {
        const progress: FfmpegProgress = { outTimeSeconds };
        if (durationSeconds && durationSeconds > 0) {
          progress.fraction = value === 'end' ? 1 : Math.min(1, outTimeSeconds / durationSeconds);
        }
        if (speed !== undefined) progress.speed = speed;
        onProgress(progress);
      }
    }
  };
}
