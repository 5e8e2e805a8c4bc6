import type { Consumer } from 'kafkajs';
import type { Logger } from '../logger.ts';

/** `joining` until the first assignment and during rebalances; `down` after a crash until kafkajs rejoins. */
export type MembershipState = 'joining' | 'member' | 'down';

/** Follows a consumer's group membership: its state for readiness, and the moments offsets must be committed. */
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
  consumer.on(consumer.events.REBALANCING, () => {
    state = 'joining';
    hooks.beforeRejoin();
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    log.info({ groupId: payload.groupId, memberId: payload.memberId }, 'Kafka consumer joined its group');
    hooks.joined(payload.memberAssignment);
    state = 'member';
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    log.error({ err: payload.error, restart: payload.restart }, 'Kafka consumer crashed');
    state = 'down';
  });
  return { state: (): MembershipState => state };
}
