import { createReadStream } from 'node:fs';
import { eventSchemaVersion, type OptimizeRequest, topics, type VirusDetected } from '../contracts/events.ts';
import type { Bus } from '../platform/bus/bus.ts';
import type { Clamd } from '../platform/clamav/clamd.ts';
import type { ObjectStorage } from '../platform/storage/object-storage.ts';
import { traceHeader } from '../platform/tracing/spans.ts';
import { resultEventId } from './event-ids.ts';

/**
 * Scans the downloaded original before any derivative exists. Malware is deleted from storage at once and
 * reported on `virus.detected`; the API then rejects the media with code `malware`. A scanner outage throws,
 * so the bus retries the job: an unscanned file is never processed when scanning is configured.
 */
export async function quarantineIfInfected(
  deps: { clamd: Clamd; storage: ObjectStorage; bus: Bus },
  request: OptimizeRequest,
  requestId: string,
  localPath: string,
): Promise<boolean> {
  const result = await deps.clamd.scan(createReadStream(localPath));
  if (result.clean) return false;
  await deps.storage.delete([request.objectKey]);
  const payload: VirusDetected = {
    mediaId: request.mediaId,
    virusName: result.virusName,
    actionTaken: 'object_deleted',
  };
  await deps.bus.publish(topics.virusDetected, [
    {
      id: resultEventId(`${requestId}:virus`),
      key: request.mediaId,
      type: 'media.virus.detected',
      payload,
      headers: {
        'event-type': 'media.virus.detected',
        'schema-version': eventSchemaVersion,
        ...traceHeader(),
      },
    },
  ]);
  return true;
}
