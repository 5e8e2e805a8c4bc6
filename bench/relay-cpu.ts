import { childCpuSeconds } from './process-cpu.ts';

/** CPU µs per event of this process (relay or raw producer, and the consumer) and of each server. */
export interface CpuPerEvent {
  node: number;
  postgres: number;
  kafka: number;
}

/** Starts measuring; the function returned gives the CPU spent since, per event of `count`. */
export function cpuMeter(): (count: number) => CpuPerEvent {
  const node = process.cpuUsage();
  const servers = childCpuSeconds();
  return (count) => {
    const spent = process.cpuUsage(node);
    const now = childCpuSeconds();
    const server = (name: string) => ((now.get(name) ?? 0) - (servers.get(name) ?? 0)) * 1e6;
    return {
      node: (spent.user + spent.system) / count,
      postgres: server('postgres') / count,
      kafka: server('java') / count,
    };
  };
}
