import { listOutbox, replayOutbox } from '../api/ops/outbox-ops.ts';
import { OutboxQuery, ReplayBody } from '../contracts/ops.ts';
import { connectDatabase } from '../db/client.ts';
import { type Config, requireSetting } from '../platform/config.ts';
import { createS3Storage } from '../platform/storage/s3-storage.ts';
import { flag, option } from './args.ts';
import { checked } from './checked-args.ts';

const usage = `usage: mediagate outbox list [--pending|--published|--all] [--media ID] [--limit N]
       mediagate outbox replay (--ids ID,ID… | --media ID | --from ISO --to ISO [--topic T])`;

/**
 * `mediagate outbox …`: what `GET /v1/ops/outbox` and `POST /v1/ops/outbox/replay` do, run straight against
 * the configured database, for operators next to the deployment.
 */
export async function runOutbox(config: Config, args: string[]): Promise<unknown> {
  const [action, ...rest] = args;
  if (action === 'list') {
    const query = checked(OutboxQuery, listQuery(rest), usage);
    return withDatabase(config, (db) => listOutbox(db, query));
  }
  if (action === 'replay') {
    const body = checked(ReplayBody, replaySelector(rest), usage);
    const storage = createS3Storage(config.s3);
    return withDatabase(config, (db) => replayOutbox({ db, config, storage }, body));
  }
  throw new Error(usage);
}

function listQuery(args: string[]) {
  const limit = option(args, '--limit');
  return {
    state: flag(args, '--all') ? 'all' : flag(args, '--published') ? 'published' : 'pending',
    mediaId: option(args, '--media'),
    limit: limit === undefined ? undefined : Number(limit),
  };
}

function replaySelector(args: string[]) {
  const ids = option(args, '--ids');
  if (ids !== undefined) return { ids: ids.split(',').filter(Boolean) };
  const mediaId = option(args, '--media');
  if (mediaId !== undefined) return { mediaId };
  return { from: option(args, '--from'), to: option(args, '--to'), topic: option(args, '--topic') };
}

async function withDatabase<T>(
  config: Config,
  work: (db: ReturnType<typeof connectDatabase>['db']) => Promise<T>,
): Promise<T> {
  const database = connectDatabase(requireSetting(config.databaseUrl, 'DATABASE_URL'), 2);
  try {
    return await work(database.db);
  } finally {
    await database.close();
  }
}
