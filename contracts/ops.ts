import { type Static, Type } from '@sinclair/typebox';
import { KafkaPosition, topics } from './events.ts';
import { Uuid } from './ids.ts';
import { mediaStatuses } from './media.ts';
import { Text, Timestamp } from './text.ts';

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
  traceId: Type.Union([Type.String(), Type.Null()], {
    description: 'the trace the event continues (W3C trace id), null when it was written outside a trace',
  }),
});

export const OutboxQuery = Type.Object(
  {
    state: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('published'), Type.Literal('all')]),
    ),
    mediaId: Type.Optional(Uuid()),
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

/**
 * Only the platform's own topics: an unknown one is a mistake to name, not a selector that matches nothing,
 * and naming it would make the Kafka bus create its dead-letter topic.
 */
const PlatformTopic = Type.Union(
  Object.values(topics).map((t) => Type.Literal(t)),
  { description: 'logical topic, without KAFKA_TOPIC_PREFIX' },
);

/** Exactly one selector: event ids, a media id, or a time range of original events. */
export const ReplayBody = Type.Union([
  Type.Object({ ids: Type.Array(Uuid(), { minItems: 1, maxItems: 1000 }) }, { additionalProperties: false }),
  Type.Object({ mediaId: Uuid() }, { additionalProperties: false }),
  Type.Object(
    {
      from: Timestamp(),
      to: Timestamp(),
      topic: Type.Optional(PlatformTopic),
    },
    { additionalProperties: false },
  ),
]);
export type ReplayBody = Static<typeof ReplayBody>;

export const ReplayResult = Type.Object({
  replayed: Type.Array(Type.Object({ id: Type.String(), replayOf: Type.String() })),
  skipped: Type.Array(
    Type.Object({
      mediaId: Type.String(),
      reason: Type.Union(
        ['media_deleted', 'media_rejected', 'media_missing', 'object_missing'].map((r) => Type.Literal(r)),
      ),
    }),
    {
      description: 'media whose events were not replayed: retired, gone, or their original no longer stored',
    },
  ),
});

const Position = Type.Union([KafkaPosition, Type.Null()], {
  description: 'topic, partition and offset of the record; null on the embedded bus',
});

/** One worker run that settled the media (a reprocess or a redrive adds another). */
export const ProcessingRun = Type.Object({
  requestId: Type.String(),
  at: Type.String({ format: 'date-time', description: 'when the API applied the result' }),
  outcome: Type.String({ description: 'the status the result moved the media to' }),
  worker: Type.Union([Type.Object({ hostname: Type.String(), pid: Type.Integer() }), Type.Null()]),
  totalMs: Type.Union([Type.Integer(), Type.Null()]),
  steps: Type.Array(
    Type.Object({ name: Type.String(), startMs: Type.Integer(), ms: Type.Integer(), ok: Type.Boolean() }),
  ),
  request: Position,
  result: Position,
});

export const MediaTrace = Type.Object({
  media: Type.Record(Type.String(), Type.Unknown()),
  /** The trace of the latest optimize request: complete → worker → ready, in the tracing backend. */
  traceId: Type.Union([Type.String(), Type.Null()]),
  events: Type.Array(Type.Record(Type.String(), Type.Unknown())),
  outbox: Type.Array(OutboxRow),
  processing: Type.Array(ProcessingRun, {
    description:
      'per run: the worker, its step durations and the Kafka positions of request and result; empty for results from workers that did not report them',
  }),
  variants: Type.Array(Type.Record(Type.String(), Type.Unknown())),
});

export const DlqQuery = Type.Object(
  {
    topic: PlatformTopic,
    group: Type.Optional(Text({ maxLength: 200, description: 'consumer group that gave up' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  },
  { additionalProperties: false },
);
export type DlqQuery = Static<typeof DlqQuery>;

export const DeadLetterView = Type.Object({
  id: Type.String({ description: 'dead-letter id, for redrive' }),
  group: Type.String(),
  eventId: Type.String(),
  key: Type.String(),
  eventType: Type.String(),
  payload: Type.Unknown(),
  headers: Type.Record(Type.String(), Type.String()),
  error: Type.Object({ message: Type.String(), stack: Type.Optional(Type.String()) }),
  attempts: Type.Integer(),
  failedAt: Type.String({ format: 'date-time' }),
});

export const DeadLetterList = Type.Object({ items: Type.Array(DeadLetterView) });

/** No ids: every pending dead letter of the topic (or of the group). */
export const RedriveBody = Type.Object(
  {
    topic: PlatformTopic,
    group: Type.Optional(Text({ maxLength: 200 })),
    ids: Type.Optional(Type.Array(Text({ maxLength: 200 }), { minItems: 1, maxItems: 1000 })),
  },
  { additionalProperties: false },
);
export type RedriveBody = Static<typeof RedriveBody>;

export const RedriveResult = Type.Object({
  redriven: Type.Integer(),
  requeuedMedia: Type.Integer({ description: 'media moved from failed (dead-lettered) back to processing' }),
});

export const StuckMediaQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) },
  { additionalProperties: false },
);
export type StuckMediaQuery = Static<typeof StuckMediaQuery>;

export const StuckMediaList = Type.Object({
  thresholdSeconds: Type.Integer({ description: 'STUCK_PROCESSING_AFTER_SECONDS' }),
  total: Type.Integer({ description: 'all stuck media, not only the listed ones' }),
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      ownerId: Type.String(),
      kind: Type.String(),
      lastChangeAt: Type.String({ format: 'date-time' }),
      stuckForSeconds: Type.Integer(),
    }),
  ),
});

/** Operator media search: every filter optional, combined with AND; newest first. */
export const MediaSearchQuery = Type.Object(
  {
    id: Type.Optional(Uuid()),
    owner: Type.Optional(Text({ maxLength: 200 })),
    status: Type.Optional(Type.Union(mediaStatuses.map((s) => Type.Literal(s)))),
    kind: Type.Optional(Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('audio')])),
    failureCode: Type.Optional(Text({ maxLength: 100 })),
    from: Type.Optional(Timestamp({ description: 'created at or after' })),
    to: Type.Optional(Timestamp({ description: 'created before' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  },
  { additionalProperties: false },
);
export type MediaSearchQuery = Static<typeof MediaSearchQuery>;

export const MediaSearchResult = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      ownerId: Type.String(),
      kind: Type.String(),
      status: Type.String(),
      filename: Type.String(),
      sizeBytes: Type.Integer(),
      failureCode: Type.Union([Type.String(), Type.Null()]),
      createdAt: Type.String({ format: 'date-time' }),
      updatedAt: Type.String({ format: 'date-time' }),
    }),
  ),
});

export const TimeseriesQuery = Type.Object(
  {
    hours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720, default: 24 })),
    bucketMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1440, default: 60 })),
  },
  { additionalProperties: false },
);
export type TimeseriesQuery = Static<typeof TimeseriesQuery>;

const Rate = Type.Integer({ minimum: 0 });
const MaybeSeconds = Type.Union([Type.Number(), Type.Null()]);

export const Timeseries = Type.Object({
  bucketSeconds: Type.Integer(),
  points: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time', description: 'start of the bucket' }),
      created: Rate,
      processing: Rate,
      ready: Rate,
      failed: Rate,
      rejected: Rate,
      timeToReadyP50: MaybeSeconds,
      timeToReadyP95: MaybeSeconds,
    }),
    { description: 'the upload funnel per bucket, oldest first, every bucket present (zeros included)' },
  ),
});
export type Timeseries = Static<typeof Timeseries>;

export const MediaObjects = Type.Object({
  objects: Type.Array(
    Type.Object({
      objectKey: Type.String(),
      role: Type.String({
        description: '`original`, or the rendition it holds (`thumbnail`, `low`, `hls`…)',
      }),
      format: Type.String(),
      bytes: Type.Integer(),
      url: Type.String({ description: 'an edge URL the operator can open (a view token for private keys)' }),
      referencedBy: Type.Array(
        Type.Object({ mediaId: Type.String(), ownerId: Type.String(), status: Type.String() }),
        { description: 'every media holding the key, this one included: shared keys outlive a delete' },
      ),
    }),
  ),
});
