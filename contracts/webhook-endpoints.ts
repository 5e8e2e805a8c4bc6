import { type Static, Type } from '@sinclair/typebox';
import { Uuid } from './ids.ts';
import { lifecycleEventTypes } from './lifecycle.ts';
import { Text } from './text.ts';

/**
 * Outgoing webhooks (Standard Webhooks): the endpoints apps register for lifecycle events, their
 * deliveries and attempts. Admin routes under `/v1/webhook-endpoints`; not the incoming vendor
 * `/v1/webhooks/moderation`.
 */
export const webhookDeliveryStates = ['pending', 'delivered', 'failed'] as const;
export type WebhookDeliveryState = (typeof webhookDeliveryStates)[number];

/** What the test route sends: not a lifecycle event, so no filter holds it back. */
export const webhookTestEventType = 'webhook.test';

const EventType = Type.Union(lifecycleEventTypes.map((t) => Type.Literal(t)));
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const EndpointUrl = Text({
  maxLength: 2048,
  description: 'http(s) URL; private, loopback and metadata addresses are refused',
});

export const EndpointParams = Type.Object({ endpointId: Uuid() }, { additionalProperties: false });
export const DeliveryParams = Type.Object(
  { endpointId: Uuid(), deliveryId: Uuid() },
  { additionalProperties: false },
);

/** The action routes (rotate, redeliver, test) take nothing: no body, or an empty object, and no more. */
export const NoBody = Type.Union([Type.Null(), Type.Object({}, { additionalProperties: false })]);

export const CreateEndpointBody = Type.Object(
  {
    url: EndpointUrl,
    description: Type.Optional(Text({ maxLength: 500, minLength: 0 })),
    eventTypes: Type.Optional(
      Type.Array(EventType, {
        maxItems: lifecycleEventTypes.length,
        uniqueItems: true,
        description: 'the types to send; empty or absent: every type',
      }),
    ),
  },
  { additionalProperties: false },
);
export type CreateEndpointBody = Static<typeof CreateEndpointBody>;

export const UpdateEndpointBody = Type.Object(
  {
    url: Type.Optional(EndpointUrl),
    description: Type.Optional(Text({ maxLength: 500, minLength: 0 })),
    eventTypes: Type.Optional(
      Type.Array(EventType, { maxItems: lifecycleEventTypes.length, uniqueItems: true }),
    ),
    enabled: Type.Optional(
      Type.Boolean({ description: 'false disables by hand; true re-enables and resumes pending deliveries' }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateEndpointBody = Static<typeof UpdateEndpointBody>;

export const EndpointView = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.String(),
  eventTypes: Type.Array(Type.String()),
  enabled: Type.Boolean(),
  disabledReason: Nullable(Type.String()),
  disabledAt: Nullable(DateTime),
  failingSince: Nullable(DateTime),
  createdAt: DateTime,
});
export type EndpointView = Static<typeof EndpointView>;

/** The secret is shown when it is made (create, rotate) and never again. */
export const EndpointWithSecret = Type.Intersect([
  EndpointView,
  Type.Object({ secret: Type.String({ description: 'whsec_<base64>: verify signatures with it' }) }),
]);
export type EndpointWithSecret = Static<typeof EndpointWithSecret>;

export const EndpointList = Type.Object({ items: Type.Array(EndpointView) });

/** Newest first; `before` is the `createdAt` cursor of the last item of the previous page. */
export const DeliveryQuery = Type.Object(
  {
    state: Type.Optional(Type.Union(webhookDeliveryStates.map((s) => Type.Literal(s)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    before: Type.Optional(Uuid({ description: 'the id of the last delivery of the previous page' })),
  },
  { additionalProperties: false },
);
export type DeliveryQuery = Static<typeof DeliveryQuery>;

export const AttemptView = Type.Object({
  at: DateTime,
  trigger: Type.String(),
  statusCode: Type.Union([Type.Integer(), Type.Null()]),
  latencyMs: Type.Integer(),
  responseExcerpt: Nullable(Type.String()),
  error: Nullable(Type.String()),
});

export const DeliveryView = Type.Object({
  id: Type.String(),
  eventId: Type.String({ description: 'the webhook-id header of every attempt' }),
  eventType: Type.String(),
  state: Type.Union(webhookDeliveryStates.map((s) => Type.Literal(s))),
  attempts: Type.Integer(),
  nextAttemptAt: Nullable(DateTime),
  createdAt: DateTime,
  deliveredAt: Nullable(DateTime),
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastLatencyMs: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Nullable(Type.String()),
  attemptLog: Type.Array(AttemptView, { description: 'the latest attempts, newest first' }),
});
export type DeliveryView = Static<typeof DeliveryView>;

export const DeliveryList = Type.Object({
  items: Type.Array(DeliveryView),
  nextBefore: Nullable(Type.String({ description: 'pass as `before` for the next page' })),
});
export type DeliveryList = Static<typeof DeliveryList>;

export const Queued = Type.Object({
  deliveryId: Type.String(),
  eventId: Type.String(),
});
