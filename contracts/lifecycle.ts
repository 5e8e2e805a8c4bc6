import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { registerContractFormats } from './formats.ts';
import { Uuid } from './ids.ts';

registerContractFormats();

/**
 * The public lifecycle of a media, for the apps built on mediagate: published on the `media.lifecycle`
 * topic (key = media id, through the outbox), delivered to registered webhook endpoints (Standard
 * Webhooks), and streamed to clients. The envelope is the Standard Webhooks payload shape
 * (`type`, `timestamp`, `data`) plus a stable `id` (the same id on every delivery and replay of one event,
 * so consumers de-duplicate on it) and the schema `version`. Versioned and additive: a consumer reads
 * the fields it knows; a breaking change gets a new `version`.
 */
export const lifecycleSchemaVersion = 1;

export const lifecycleEventTypes = [
  'media.ready',
  'media.failed',
  'media.rejected',
  'media.deleted',
  'media.updated',
  'media.variant.ready',
] as const;
export type LifecycleEventType = (typeof lifecycleEventTypes)[number];

const Kind = Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('audio')]);

const Subject = {
  mediaId: Uuid(),
  ownerId: Type.String({ description: 'the `sub` of the user who uploaded it' }),
  kind: Kind,
};

const Reason = Type.Object(
  {
    code: Type.String({ description: 'a stable code from the error catalogue' }),
    detail: Type.String(),
  },
  { additionalProperties: false },
);

export const LifecycleVariant = Type.Object({
  quality: Type.String(),
  format: Type.String(),
  width: Type.Union([Type.Integer(), Type.Null()]),
  height: Type.Union([Type.Integer(), Type.Null()]),
  bytes: Type.Integer(),
});
export type LifecycleVariant = Static<typeof LifecycleVariant>;

export const RejectedBy = Type.Union([
  Type.Literal('gate'),
  Type.Literal('moderation'),
  Type.Literal('malware'),
]);
export type RejectedBy = Static<typeof RejectedBy>;
/** `expiry`: an upload never completed within its session's lifetime. */
export const DeletedBy = Type.Union([
  Type.Literal('owner'),
  Type.Literal('operator'),
  Type.Literal('takedown'),
  Type.Literal('expiry'),
]);
export type DeletedBy = Static<typeof DeletedBy>;

function event<T extends LifecycleEventType, D extends TSchema>(type: T, data: D) {
  return Type.Object(
    {
      id: Uuid({ description: 'stable per event: de-duplicate on it' }),
      version: Type.Literal(lifecycleSchemaVersion),
      type: Type.Literal(type),
      timestamp: Type.String({ format: 'date-time', description: 'when it happened' }),
      data,
    },
    { $id: type, additionalProperties: false },
  );
}

export const MediaReadyEvent = event(
  'media.ready',
  Type.Object({ ...Subject, variants: Type.Array(LifecycleVariant) }),
);
export const MediaFailedEvent = event('media.failed', Type.Object({ ...Subject, reason: Reason }));
export const MediaRejectedEvent = event(
  'media.rejected',
  Type.Object({
    ...Subject,
    reason: Reason,
    by: RejectedBy,
  }),
);
export const MediaDeletedEvent = event(
  'media.deleted',
  Type.Object({
    ...Subject,
    by: DeletedBy,
  }),
);
export const MediaUpdatedEvent = event(
  'media.updated',
  Type.Object({
    ...Subject,
    visibility: Type.Union([Type.Literal('private'), Type.Literal('public')]),
    position: Type.Integer(),
  }),
);
export const MediaVariantReadyEvent = event(
  'media.variant.ready',
  Type.Object({ ...Subject, variant: LifecycleVariant }),
);

export const LifecycleEvent = Type.Union(
  [
    MediaReadyEvent,
    MediaFailedEvent,
    MediaRejectedEvent,
    MediaDeletedEvent,
    MediaUpdatedEvent,
    MediaVariantReadyEvent,
  ],
  { $id: 'LifecycleEvent' },
);
export type LifecycleEvent = Static<typeof LifecycleEvent>;
