import { Value } from '@sinclair/typebox/value';
import { eq } from 'drizzle-orm';
import { topics, VirusDetected } from '../../contracts/events.ts';
import type { Database } from '../../db/client.ts';
import { media, processedEvent } from '../../db/schema.ts';
import type { Bus, Subscription } from '../../platform/bus/bus.ts';
import type { Logger } from '../../platform/logger.ts';
import { retireMedia } from '../media/delete-media.ts';

export const virusConsumer = 'api.virus';

/** A scanner found malware: the media is rejected with code `malware` and whatever it held is queued for deletion. */
export function subscribeVirusReports(db: Database, bus: Bus, logger: Logger): Promise<Subscription> {
  return bus.subscribe(topics.virusDetected, virusConsumer, async (message) => {
    if (!Value.Check(VirusDetected, message.payload))
      throw new Error(`virus report ${message.id} breaks the contract`);
    const report = message.payload;
    await db.transaction(async (tx) => {
      const fresh = await tx
        .insert(processedEvent)
        .values({ consumer: virusConsumer, eventId: message.id })
        .onConflictDoNothing()
        .returning({ eventId: processedEvent.eventId });
      if (fresh.length === 0) return;
      const [row] = await tx.select().from(media).where(eq(media.id, report.mediaId));
      if (!row) return;
      await retireMedia(tx, {
        mediaId: row.id,
        objectKey: row.objectKey,
        actor: 'scanner',
        to: 'rejected',
        by: 'malware',
        detail: { virusName: report.virusName, actionTaken: report.actionTaken },
        failure: { code: 'malware', detail: `malware found: ${report.virusName}` },
      });
    });
    logger.warn({ mediaId: report.mediaId, virusName: report.virusName }, 'malware reported');
  });
}
