import { sql } from 'drizzle-orm';
import type { AsyncVideoModeration } from '../../platform/moderation/async-video.ts';
import { parseJobRef } from '../../platform/moderation/callback-token.ts';
import { repeatEvery } from '../../platform/repeat.ts';
import type { ApiContext } from '../context.ts';
import { type SettleOutcome, settleVideoJob } from './settle-video-job.ts';

export interface RepollReport {
  polled: number;
  outcomes: Partial<Record<SettleOutcome | 'error', number>>;
}

/**
 * A callback that never comes must not leave a video pending for ever: every Sightengine job pending for
 * longer than MODERATION_ASYNC_REPOLL_AFTER_SECONDS since the gate opened it is settled from the vendor's
 * status endpoint, exactly as a callback would settle it.
 */
export async function repollPendingJobs(
  ctx: ApiContext,
  video: AsyncVideoModeration,
  limit = 100,
): Promise<RepollReport> {
  const { rows } = await ctx.db.execute<{ id: string; moderation_job_id: string }>(sql`
    select m.id, m.moderation_job_id from media m
     where m.moderation_status = 'pending'
       and m.moderation_job_id like 'sightengine-video:%'
       and m.status not in ('deleted', 'rejected')
       and (select max(e.at) from media_event e where e.media_id = m.id and e.actor = 'gate')
           < now() - make_interval(secs => ${video.repollAfterSeconds})
     order by m.created_at
     limit ${limit}`);
  const report: RepollReport = { polled: 0, outcomes: {} };
  for (const row of rows) {
    const ref = parseJobRef(row.moderation_job_id);
    if (!ref) continue;
    report.polled++;
    const outcome = await settleVideoJob(ctx, video, { mediaId: row.id, nonce: ref.nonce }).catch(
      (error: unknown) => {
        ctx.logger.warn({ err: error, mediaId: row.id }, 'moderation re-poll failed; will retry');
        return 'error' as const;
      },
    );
    report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
  }
  return report;
}

/** Re-polls every half of the limit (at most once a minute); a slow pass delays the next one. */
export function startModerationRepoll(ctx: ApiContext, video: AsyncVideoModeration) {
  const intervalMs = Math.min(60_000, Math.max(1_000, (video.repollAfterSeconds * 1000) / 2));
  return repeatEvery(
    intervalMs,
    async () => {
      const report = await repollPendingJobs(ctx, video);
      if (report.polled > 0) ctx.logger.info(report, 'moderation re-poll');
    },
    ctx.logger,
    'moderation re-poll',
  );
}
