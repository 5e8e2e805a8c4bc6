import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `mediagate` command from the sources; a bundle (deploy/bundle) may stand in for it. */
export const sourceCli = fileURLToPath(new URL('../bin/mediagate.ts', import.meta.url));

export interface RoleProcess {
  role: string;
  child: ChildProcess;
  output: string[];
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Runs `mediagate <role>` as its own process, as in production; keeps its last lines for failure reports. */
export function spawnRole(role: string, env: Record<string, string>, cli = sourceCli): RoleProcess {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', cli, role], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (output.length > 400) output.splice(0, output.length - 400);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    role,
    child,
    output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function runOnce(role: string, env: Record<string, string>, cli = sourceCli): Promise<string> {
  const proc = spawnRole(role, env, cli);
  const code = await new Promise<number | null>((resolve) => proc.child.once('exit', resolve));
  if (code !== 0) throw new Error(`mediagate ${role} exited with ${code}:\n${proc.output.join('\n')}`);
  return proc.output.join('\n');
}

export async function waitForHttp(url: string, proc: RoleProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.role} exited:\n${proc.output.join('\n')}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${proc.role} did not answer ${url} within ${timeoutMs} ms:\n${proc.output.join('\n')}`);
}
