import { type Static, Type } from '@sinclair/typebox';

export const OutboxRow = Type.Object({
  id: Type.String(),
  aggregateId: Type.String(),
  topic: Type.String(),
  eventType: Type.String(),
  payload: Type.Unknown(),
  replayOf: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  publishedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
});

export const OutboxQuery = Type.Object(
  {
    state: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('published'), Type.Literal('all')]),
    ),
    mediaId: Type.Optional(Type.String({ format: 'uuid' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export type OutboxQuery = Static<typeof OutboxQuery>;

export const OutboxList = Type.Object({
  pending: Type.Integer({ description: 'rows not yet accepted by the bus' }),
  oldestPendingAgeSeconds: Type.Union([Type.Number(), Type.Null()]),
  items: Type.Array(OutboxRow),
});

/** Exactly one selector: event ids, a media id, or a time range of original events. */
export const ReplayBody = Type.Union([
  Type.Object(
    { ids: Type.Array(Type.String({ format: 'uuid' }), { minItems: 1, maxItems: 1000 }) },
    { additionalProperties: false },
  ),
  Type.Object({ mediaId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
  Type.Object(
    {
      from: Type.String({ format: 'date-time' }),
      to: Type.String({ format: 'date-time' }),
      topic: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
]);
export type ReplayBody = Static<typeof ReplayBody>;

export const ReplayResult = Type.Object({
  replayed: Type.Array(Type.Object({ id: Type.String(), replayOf: Type.String() })),
});

export const MediaTrace = Type.Object({
  media: Type.Record(Type.String(), Type.Unknown()),
  events: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  outbox: Type.Array(OutboxRow),
  variants: Type.Array(Type.Record(Type.String(), Type.Unknown())),
});
