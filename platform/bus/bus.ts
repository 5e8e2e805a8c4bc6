/**
 * The bus port. Delivery is at least once: a handler may see a message again, so handlers are idempotent
 * by `id`. A handler that throws asks for a retry with backoff; after the attempts run out the message is
 * parked in the topic's dead-letter queue. A handler never blocks messages behind it.
 */
export interface BusMessage {
  /** The event id: consumers dedupe on it. */
  id: string;
  /** Partitioning key (the media id): messages with one key keep their order where the bus can. */
  key: string;
  type: string;
  /** Any JSON value; on publish also a `JsonText`, which handlers receive parsed like any other payload. */
  payload: unknown;
  headers: Record<string, string>;
}

/**
 * A payload that is already one JSON value as text (the outbox reads its jsonb column as text): the bus sends
 * these characters as they are instead of parsing them and encoding the value again. The text is trusted to be
 * JSON, as a jsonb column's is; a consumer dead-letters a record whose payload is not.
 */
export class JsonText {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** The payload as the JSON text a bus stores. */
export function payloadText(payload: unknown): string {
  return payload instanceof JsonText ? payload.text : JSON.stringify(payload);
}

export interface DeliveredMessage extends BusMessage {
  topic: string;
  /** 1 on first delivery. */
  attempt: number;
  /** Where the bus read it, when the bus has offsets (Kafka: the record's topic, partition and offset). */
  position?: { topic: string; partition: number; offset: string };
}

export type MessageHandler = (message: DeliveredMessage) => Promise<void>;

export interface SubscribeOptions {
  /** Messages handled at once by this process. */
  concurrency?: number;
}

export interface Subscription {
  stop(): Promise<void>;
  /** Group membership, where the bus has one (Kafka): `joining` also during a rebalance, `down` after a crash. */
  state?(): 'joining' | 'member' | 'down';
}

export interface Bus {
  readonly kind: 'kafka' | 'embedded';
  /** Resolves only once the bus has durably accepted every message. */
  publish(topic: string, messages: BusMessage[]): Promise<void>;
  subscribe(
    topic: string,
    group: string,
    handler: MessageHandler,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  close(): Promise<void>;
}

export const maxDeliveryAttempts = 5;
