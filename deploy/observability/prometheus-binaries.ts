import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's `prometheus` package (.ci/run installs it): the server and promtool, from PATH. */
async function onPath(name: string): Promise<string> {
  try {
    await run(name, ['--version']);
    return name;
  } catch {
    throw new Error(
      `${name} is not on PATH: install Debian's prometheus package (apt-get install prometheus)`,
    );
  }
}

export const promtool = () => onPath('promtool');
export const prometheus = () => onPath('prometheus');
