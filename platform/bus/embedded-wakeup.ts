import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL channel on which a publish names the queues it filled: the publishing bus's origin line, then
 * one line per queue, `<queue>\t<messages>` (a line without a count is one message).
 */
export const publishChannel = 'mediagate_bus';

const reconnectDelayMs = 1000;

/** Marks the line of a notification that names the bus which sent it. */
const originPrefix = 'from ';

export interface PublishListener {
  /** The first line of this bus's own notifications. */
  origin: string;
  close(): Promise<void>;
}

/**
 * Wakes this process's idle subscribers when any process publishes to their queue. Without it a message
 * published by another process (the API's relay for the worker, the worker's result for the API) waited
 * for the subscriber's next poll, up to half a second, twice on every photo's way to ready. A notification
 * only wakes a fetch; polling still finds messages whose notification was lost, as with the outbox relay,
 * so a dropped listening session just reconnects after a second.
 */
export async function listenForPublishes(
  connectionString: string,
  onPublish: (queue: string, count: number) => void,
  report: (error: unknown) => void,
): Promise<PublishListener> {
  let closed = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const origin = `${originPrefix}${randomUUID()}`;

  const connect = async () => {
    const session = new pg.Client({ connectionString });
    client = session;
    let lost = false;
    const reconnect = (error?: unknown) => {
      if (lost || closed) return;
      lost = true;
      if (error) report(error);
      session.end().catch(() => {});
      retry = setTimeout(() => void connect(), reconnectDelayMs);
      retry.unref();
    };
    session.on('error', reconnect);
    session.on('end', () => reconnect());
    session.on('notification', ({ payload }) => {
      const lines = payload?.split('\n') ?? [];
      // The publishing bus has already woken its own subscribers; a second wake would cost a fetch.
      if (lines[0] === origin) return;
      for (const line of lines) {
        if (line.startsWith(originPrefix)) continue;
        const [queue = '', count] = line.split('\t');
        onPublish(queue, Math.max(1, Number(count) || 1));
      }
    });
    try {
      await session.connect();
      if (closed) return void (await session.end());
      await session.query(`listen ${publishChannel}`);
    } catch (error) {
      reconnect(error);
    }
  };
  // The first session is listening before the bus is handed out; a failure there only means polling until
  // the retry connects.
  await connect();

  return {
    origin,
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
    },
  };
}
