/**
 * A rung's audio as its plan chose it (worker/video/plan.ts `audioArgs`: AAC at a bitrate never above the
 * source's, or a copy of a source already fit to play), read back from the rendition's arguments so the
 * chunked path follows the same rules; an explicit bitrate overrides the plan.
 */
export type RungAudio = { kind: 'none' } | { kind: 'copy' } | { kind: 'aac'; args: string[] };

export function rungAudio(outputArgs: readonly string[], bitrate?: number): RungAudio {
  if (outputArgs.includes('-an')) return { kind: 'none' };
  const planned = argValue(outputArgs, '-b:a');
  const codec = argValue(outputArgs, '-c:a') ?? argValue(outputArgs, '-c');
  if (bitrate === undefined && planned === undefined && codec === 'copy') return { kind: 'copy' };
  const channels = argValue(outputArgs, '-ac');
  const rate = argValue(outputArgs, '-ar');
  const chosen = bitrate ?? (planned === undefined ? undefined : Number(planned));
  return {
    kind: 'aac',
    args: [
      ...['-c:a', 'aac'],
      ...(chosen !== undefined && chosen > 0 ? ['-b:a', String(Math.round(chosen))] : []),
      ...(channels ? ['-ac', channels] : []),
      ...(rate ? ['-ar', rate] : []),
    ],
  };
}

/** The value after the last `flag` in an ffmpeg argument list. */
export function argValue(args: readonly string[], flag: string): string | undefined {
  const at = args.lastIndexOf(flag);
  return at < 0 ? undefined : args[at + 1];
}
