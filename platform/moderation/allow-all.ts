import type { Moderator } from './moderation.ts';

/**
 * Used when no moderation vendor is configured. Its name says so, so the startup log shows that uploads
 * are not being moderated rather than implying a vendor judged them.
 */
export const allowAllModerator: Moderator = {
  name: 'allow-all (moderation off: no vendor configured)',
  async judge() {
    return { decision: 'allow' };
  },
};
