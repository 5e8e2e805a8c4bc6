import type { Bus, DeliveredMessage, MessageHandler } from '../bus/bus.ts';
import { tracingActive } from './sdk.ts';
import { contextFromTraceparent, inSpan, SpanKind } from './spans.ts';

/**
 * The same bus, every consumer's handler traced: a role wraps its bus once and each of its consumers
 * continues the trace of the messages it handles. Without tracing the bus is returned as it is.
 */
export function tracedBus<B extends Bus>(bus: B): B {
  if (!tracingActive()) return bus;
  return {
    ...bus,
    subscribe: (topic, group, handler, options) =>
      bus.subscribe(topic, group, tracedHandler(handler), options),
  };
}

/**
 * Handles each message in a CONSUMER span that continues the trace its `traceparent` header carries. A
 * message without one starts a trace of its own.
 */
export function tracedHandler(handler: MessageHandler): MessageHandler {
  return (message) =>
    inSpan(
      `process ${message.topic}`,
      {
        kind: SpanKind.CONSUMER,
        parent: contextFromTraceparent(message.headers.traceparent),
        attributes: messageAttributes(message),
      },
      () => handler(message),
    );
}

function messageAttributes(message: DeliveredMessage) {
  return {
    'messaging.operation.type': 'process',
    'messaging.destination.name': message.topic,
    'messaging.message.id': message.id,
    'mediagate.media_id': message.key,
    'mediagate.delivery.attempt': message.attempt,
    ...(message.position
      ? {
          'messaging.system': 'kafka',
          'messaging.destination.partition.id': String(message.position.partition),
          'messaging.kafka.offset': Number(message.position.offset),
        }
      : {}),
  };
}
