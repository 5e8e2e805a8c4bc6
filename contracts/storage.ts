import { type Static, Type } from '@sinclair/typebox';

export const SweepBody = Type.Object(
  {
    graceSeconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        // A year: past that `make_interval` and timestamps overflow, and nothing waits that long.
        maximum: 365 * 24 * 3600,
        description:
          'replaces the grace periods (15 min past a session expiry, 24 h for unreferenced objects); ' +
          'only for when nothing is in flight',
      }),
    ),
  },
  { additionalProperties: false },
);
export type SweepBody = Static<typeof SweepBody>;

export const SweepReport = Type.Object({
  sessionsExpired: Type.Integer({ description: 'open upload sessions past their expiry, now aborted' }),
  orphansQueued: Type.Union([Type.Integer(), Type.Null()], {
    description: 'stored objects no row references, queued for deletion; null when storage cannot list',
  }),
  objectsDeleted: Type.Integer({ description: 'queued objects deleted because nothing references them' }),
  objectsKept: Type.Integer({
    description: 'queued objects kept because a live media still references them',
  }),
});
