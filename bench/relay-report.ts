import { printTable } from './lib.ts';
import type { CpuPerEvent } from './relay-cpu.ts';

/** One side's round of the sustained drain: events per second to each end point, and its CPU. */
export interface Round {
  acked: number;
  received: number;
  /** The relay's: until every row it sent is stamped `published_at` in the outbox. */
  stamped?: number;
  cpu: CpuPerEvent;
}

type Rate = 'acked' | 'received' | 'stamped';

const median = (values: number[]) => values.toSorted((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const perRound = (values: number[], digits = 0) => values.map((v) => v.toFixed(digits)).join(' / ');

/** Each side's rate per round and their median; the relay's ratio to the raw producer's in the same round. */
export function printDrains(drains: Round[], raws: Round[]): void {
  const row = (what: string, sides: Round[], key: Rate, versus?: Rate) => {
    const rates = sides.map((s) => s[key] ?? Number.NaN);
    const ratios = versus ? rates.map((r, i) => r / (raws[i]?.[versus] ?? Number.NaN)) : [];
    return [
      what,
      perRound(rates),
      median(rates).toFixed(0),
      versus ? perRound(ratios, 2) : '',
      versus ? `${median(ratios).toFixed(2)}x` : '',
    ];
  };
  printTable([
    ['sustained drain', 'events/s per round', 'median', 'vs raw per round', 'median ratio'],
    row('relay: commit → last ack', drains, 'acked', 'acked'),
    row('raw producer: first send → last ack', raws, 'acked'),
    row('relay: commit → last receipt', drains, 'received', 'received'),
    row('raw producer: first send → last receipt', raws, 'received'),
    row('relay: commit → every row stamped published', drains, 'stamped', 'received'),
  ]);
}

export function printCpu(rows: [string, CpuPerEvent[]][]): void {
  printTable([
    ['CPU µs per event, per round', 'this process', 'PostgreSQL', 'Kafka broker', 'together'],
    ...rows.map(([what, rounds]) => [
      what,
      ...(['node', 'postgres', 'kafka'] as const).map((k) => perRound(rounds.map((r) => r[k]))),
      perRound(rounds.map((r) => r.node + r.postgres + r.kafka)),
    ]),
  ]);
}
