import type { RoleProcess } from '../test/processes.ts';

/**
 * Where a chunked video's first playable second goes: the roles' own log lines (LOG_LEVEL=info, pino's
 * `time` in epoch ms on this machine's clock) for one media, read beside the bench's own marks (the view
 * shows the HLS variant, the variant plays through the edge), as milliseconds after `complete` answered.
 */

interface LogLine {
  time: number;
  msg: string;
  mediaId?: string;
  chunk?: number;
  rungs?: string[];
}

/** The stages in pipeline order: a log message (of the lowest rung's first chunk job for chunk lines). */
const STAGES: [label: string, msg: string][] = [
  ['coordinator starts planning', 'video coordinator planning'],
  ['probed (through a presigned URL)', 'video probed'],
  ['chunks planned', 'video chunks planned'],
  ['plan reported, jobs published', 'video handed to the fleet in chunks'],
  ['first chunk job starts encoding', 'chunk encode started'],
  ['first chunk encoded', 'chunk encoded'],
  ['first chunk stored and reported', 'chunk done'],
  ['coordinator downloaded, stills start', 'video stills started'],
];

export class TimelineRecorder {
  readonly #lines: LogLine[] = [];

  /** Keeps every line of these processes that names a media. */
  listen(roles: readonly RoleProcess[]): void {
    for (const role of roles) {
      let rest = '';
      role.child.stdout?.on('data', (chunk: Buffer) => {
        const text = rest + chunk.toString('utf8');
        const lines = text.split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          if (!line.includes('"mediaId"')) continue;
          try {
            this.#lines.push(JSON.parse(line) as LogLine);
          } catch {}
        }
      });
    }
  }

  /**
   * The stages of one media, in ms after `completedAt` (epoch ms), with the bench's own marks. Chunk
   * lines count only for chunk 0 of a one-rung job (the lowest rung goes first, alone).
   */
  stages(mediaId: string, completedAt: number, marks: Record<string, number>): [string, number][] {
    const mine = this.#lines.filter((line) => line.mediaId === mediaId);
    const first = (msg: string) =>
      mine.find(
        (line) =>
          line.msg === msg &&
          (line.chunk === undefined || (line.chunk === 0 && (line.rungs?.length ?? 0) === 1)),
      );
    const stages: [string, number][] = STAGES.flatMap(([label, msg]) => {
      const line = first(msg);
      return line ? [[label, line.time - completedAt] as [string, number]] : [];
    });
    for (const [label, at] of Object.entries(marks)) stages.push([label, at - completedAt]);
    return stages.sort((a, b) => a[1] - b[1]);
  }
}
