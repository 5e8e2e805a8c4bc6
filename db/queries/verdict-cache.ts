import { eq } from 'drizzle-orm';
import type { Verdict } from '../../platform/moderation/moderation.ts';
import type { VerdictCache } from '../../platform/moderation/verdict-cache.ts';
import type { Database } from '../client.ts';
import { moderationVerdict } from '../schema.ts';

/** Verdicts shared by every API instance and kept across restarts. */
export function postgresVerdictCache(db: Database): VerdictCache {
  return {
    async get(contentHash) {
      const [row] = await db
        .select()
        .from(moderationVerdict)
        .where(eq(moderationVerdict.contentHash, contentHash));
      return row?.verdict as Verdict | undefined;
    },
    async put(contentHash, verdict) {
      await db
        .insert(moderationVerdict)
        .values({ contentHash, verdict })
        .onConflictDoUpdate({ target: moderationVerdict.contentHash, set: { verdict } });
    },
  };
}
