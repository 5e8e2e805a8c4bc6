import pg from 'pg';
import { stampPublished } from '../../db/queries/outbox.ts';
import type { Logger } from '../../platform/logger.ts';

export interface Stamper {
  /** Stamps every batch marked so far, now or right after the stamp under way. */
  request(): void;
  /** Resolves once no stamp is under way or asked for. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Stamps `published_at` on the outbox rows of the batches the relay marked sent, on a session of its own, so
 * that a large stamp never holds up the leader's next read. One stamp at a time; requests made meanwhile
 * become one more. A failed stamp is logged and left for the next request: the batches stay owed, not lost.
 */
export function createStamper(connectionString: string, logger: Logger): Stamper {
  let session: pg.Client | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString });
    client.on('error', () => {});
    await client.connect();
    // As the leader's marks: a stamp lost in a database crash is only redone, from the same batches.
    await client.query('set synchronous_commit = off');
    return client;
  };

  const run = async () => {
    do {
      again = false;
      try {
        session ??= await connect();
        await stampPublished(session);
      } catch (error) {
        logger.warn({ err: error }, 'outbox relay could not stamp published rows; will retry');
        await session?.end().catch(() => {});
        session = undefined;
      }
    } while (again);
    running = undefined;
  };

  return {
    request() {
      if (running) again = true;
      else running = run();
    },
    async settled() {
      while (running) await running;
    },
    async close() {
      await this.settled();
      await session?.end().catch(() => {});
      session = undefined;
    },
  };
}
