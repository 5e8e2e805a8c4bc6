import type { Consumer } from 'kafkajs';
import type { Logger } from '../logger.ts';

/** `joining` until the first assignment and during rebalances; `down` after a crash until kafkajs rejoins. */
export type MembershipState = 'joining' | 'member' | 'down';

/**
 * Follows a consumer's group membership: its state for readiness, the moments offsets must be committed, and
 * whether new work may start.
 *
 * No record starts while the group rebalances. kafkajs sends its JoinGroup right after the REBALANCING event,
 * and the broker reads nothing else on that connection until the join completes (for a member that died
 * without leaving, only after the rebalance timeout); a commit sent meanwhile arrives under the old
 * generation and is refused. Work started in that window would be finished, uncommitted, and run again by
 * the partition's next owner; holding it back bounds the repeats of a rebalance to the handlers already
 * running when it began, as the Java client's eager protocol does.
 */
export function followMembership(
  consumer: Consumer,
  log: Logger,
  hooks: {
    /** The group is rebalancing and kafkajs is about to rejoin it: the last moment to commit as the old owner. */
    beforeRejoin(): void;
    joined(assignment: Record<string, number[]>): void;
  },
) {
  let state: MembershipState = 'joining';
  let rebalance: PromiseWithResolvers<void> | undefined;
  consumer.on(consumer.events.REBALANCING, () => {
    state = 'joining';
    rebalance ??= Promise.withResolvers();
    hooks.beforeRejoin();
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    log.info({ groupId: payload.groupId, memberId: payload.memberId }, 'Kafka consumer joined its group');
    hooks.joined(payload.memberAssignment);
    state = 'member';
    rebalance?.resolve();
    rebalance = undefined;
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error({ err: payload.error, restart: payload.restart }, 'Kafka consumer crashed');
    state = 'down';
  });
  return {
    state: (): MembershipState => state,
    /** True once no rebalance is under way (at once, usually); false if `signal` aborts first. */
    async settled(signal: AbortSignal): Promise<boolean> {
      while (rebalance && !signal.aborted) {
        const aborted = Promise.withResolvers<void>();
        const onAbort = () => aborted.resolve();
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await Promise.race([rebalance.promise, aborted.promise]);
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      }
      return !signal.aborted;
    },
  };
}
