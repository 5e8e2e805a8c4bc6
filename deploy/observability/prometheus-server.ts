import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../ports.ts';
import { prometheus } from './prometheus-binaries.ts';

export interface PrometheusServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * A real Prometheus (Debian's binary) scraping each role's metrics endpoint as job `mediagate-<role>`, the
 * job names the dashboards' `up` panels select, every second, with `rulesFile` loaded when given.
 */
export async function startPrometheus(
  metricsUrls: Record<string, string>,
  options: { rulesFile?: string } = {},
): Promise<PrometheusServer> {
  const binary = await prometheus();
  const dir = await mkdtemp(join(tmpdir(), 'mediagate-prometheus-'));
  const port = await freePort('127.0.0.1');
  const url = `http://127.0.0.1:${port}`;
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: options.rulesFile ? [options.rulesFile] : [],
    scrape_configs: Object.entries(metricsUrls).map(([role, metricsUrl]) => ({
      job_name: `mediagate-${role}`,
      static_configs: [{ targets: [new URL(metricsUrl).host] }],
    })),
  };
  await writeFile(join(dir, 'prometheus.yml'), JSON.stringify(config));
  const server: ChildProcess = spawn(
    binary,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  while (
    !(await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    ))
  ) {
    if (Date.now() > deadline) {
      await stop();
      throw new Error('Prometheus did not become ready within 30 s');
    }
    await sleep(200);
  }
  return { url, stop };
}
