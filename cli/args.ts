export function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export function flag(args: string[], name: string): boolean {
  return args.includes(name);
}

export function positional(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith('--')) {
      if (args[i + 1] !== undefined && !args[i + 1]?.startsWith('--') && !booleanFlags.has(arg)) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

const booleanFlags = new Set(['--admin', '--public', '--json']);
