import type { BusMessage } from './bus.ts';

/** A message whose handler failed every delivery attempt, parked for an operator. */
export interface DeadLetter {
  /** Opaque and bus-specific: only good for passing back to `redrive`. */
  id: string;
  /** The consumer group whose handler gave up; other groups may have handled the message fine. */
  group: string;
  message: BusMessage;
  error: { message: string; stack?: string };
  attempts: number;
  failedAt: Date;
}

/**
 * Operator access to the dead-letter queues, kept apart from the `Bus` port because only operator tooling
 * needs it. A redrive delivers the message again, with fresh attempts, to the group that dead-lettered it
 * only. It keeps the event id, so a handler that did finish the event after all (a partial failure) still
 * recognises it, while one that never finished it processes it now; the `redrive-of` header names the dead
 * letter it came from.
 */
export interface DeadLetterAdmin {
  /** Dead letters not yet redriven, oldest first. */
  listDeadLetters(topic: string, options?: { group?: string; limit?: number }): Promise<DeadLetter[]>;
  /** Redrives the given dead letters (all pending ones of the topic, or of one group, when no ids are given). */
  redrive(topic: string, options?: { group?: string; ids?: string[] }): Promise<number>;
}

export const redriveHeader = 'redrive-of';
