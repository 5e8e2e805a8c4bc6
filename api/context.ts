import type { Database } from '../db/client.ts';
import type { DeadLetterAdmin } from '../platform/bus/dead-letters.ts';
import type { Config } from '../platform/config.ts';
import type { Logger } from '../platform/logger.ts';
import type { UploadMetrics } from '../platform/metrics/uploads.ts';
import type { Moderator } from '../platform/moderation/moderation.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';

/** What the control plane's domain functions need; built once at start and passed down. */
export interface ApiContext {
  config: Config;
  db: Database;
  storage: ObjectStorage;
  logger: Logger;
  moderator: Moderator;
  /** The bus's dead-letter queues, for the ops routes. */
  deadLetters: DeadLetterAdmin;
  /** The upload funnel and the gate's metrics. */
  metrics: UploadMetrics;
}
