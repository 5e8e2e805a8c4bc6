import { pino } from 'pino';
import { listDeadLetters, redriveDeadLetters } from '../api/ops/dead-letters.ts';
import { DlqQuery, RedriveBody } from '../contracts/ops.ts';
import { connectDatabase } from '../db/client.ts';
import { createBus } from '../platform/bus/create-bus.ts';
import type { DeadLetterAdmin } from '../platform/bus/dead-letters.ts';
import { type Config, requireSetting } from '../platform/config.ts';
import { option } from './args.ts';
import { checked } from './checked-args.ts';

const usage = `usage: mediagate dlq list --topic T [--group G] [--limit N]
       mediagate dlq redrive --topic T [--group G] [--ids ID,ID…]
  T is a logical topic: optimize.request, optimize.result, virus.detected or lifecycle`;

/**
 * `mediagate dlq …`: what `GET /v1/ops/dlq` and `POST /v1/ops/dlq/redrive` do, run straight against the
 * configured bus (Kafka, or the embedded bus in PostgreSQL).
 */
export async function runDlq(config: Config, args: string[]): Promise<unknown> {
  const [action, ...rest] = args;
  const selector = { topic: option(rest, '--topic'), group: option(rest, '--group') };
  if (action === 'list') {
    const limit = option(rest, '--limit');
    const query = checked(
      DlqQuery,
      { ...selector, limit: limit === undefined ? undefined : Number(limit) },
      usage,
    );
    return withDeadLetters(config, (admin) => listDeadLetters(admin, query));
  }
  if (action === 'redrive') {
    const ids = option(rest, '--ids')?.split(',').filter(Boolean);
    const body = checked(RedriveBody, { ...selector, ids }, usage);
    const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'), 2);
    try {
      return await withDeadLetters(config, (admin) =>
        redriveDeadLetters({ deadLetters: admin, db: database.db }, body),
      );
    } finally {
      await database.close();
    }
  }
  throw new Error(usage);
}

async function withDeadLetters<T>(config: Config, work: (admin: DeadLetterAdmin) => Promise<T>): Promise<T> {
  // stdout carries the JSON answer only; the bus client's warnings go to stderr.
  const bus = await createBus(config, pino({ level: config.logLevel }, pino.destination(2)));
  try {
    return await work(bus);
  } finally {
    await bus.close();
  }
}
