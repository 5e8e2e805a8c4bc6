import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Uuid } from './ids.ts';
import {
  MediaDeletedEvent,
  MediaFailedEvent,
  MediaReadyEvent,
  MediaRejectedEvent,
  MediaVariantReadyEvent,
} from './lifecycle.ts';
import { MediaView } from './media.ts';

/**
 * The live status stream of one media (`GET /v1/media/:mediaId/events`, Server-Sent Events). Each SSE
 * message's `event:` is the type and its `data:` a JSON envelope `{type, timestamp, data}`, the shape of
 * the public lifecycle events (contracts/lifecycle.ts) without their per-delivery `id`: the SSE `id:` is
 * the resume cursor instead. The lifecycle types keep their payloads (variants add the viewer's `url`);
 * `media.status` and `media.progress` exist only here, for a client that watches.
 */
export const liveStatusEventTypes = [
  'media.status',
  'media.progress',
  'media.variant.ready',
  'media.ready',
  'media.failed',
  'media.rejected',
  'media.deleted',
] as const;
export type LiveStatusEventType = (typeof liveStatusEventTypes)[number];

/** The stream ends after one of these; a reconnect past it is answered 204. */
export const terminalLiveStatusTypes = [
  'media.ready',
  'media.failed',
  'media.rejected',
  'media.deleted',
] as const;

const Url = Type.String({ description: 'an edge URL for this viewer (private media carry a token)' });

const LiveVariant = Type.Object({
  ...MediaVariantReadyEvent.properties.data.properties.variant.properties,
  url: Url,
});

function envelope<T extends LiveStatusEventType, D extends TSchema>(type: T, data: D) {
  return Type.Object(
    {
      type: Type.Literal(type),
      timestamp: Type.String({ format: 'date-time', description: 'when it happened' }),
      data,
    },
    { $id: `live:${type}`, additionalProperties: false },
  );
}

export const LiveStatusEvent = envelope(
  'media.status',
  Type.Object({
    mediaId: Uuid(),
    status: MediaView.properties.status,
    from: Type.Union([MediaView.properties.status, Type.Null()], {
      description: 'null on the first message of a stream: the state when it opened',
    }),
    media: Type.Optional(MediaView),
  }),
);
export const LiveProgressEvent = envelope(
  'media.progress',
  Type.Object({
    mediaId: Uuid(),
    progress: Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 }), {
      description: 'per output of the running job, 0..1',
    }),
  }),
);
export const LiveVariantReadyEvent = envelope(
  'media.variant.ready',
  Type.Object({ ...MediaVariantReadyEvent.properties.data.properties, variant: LiveVariant }),
);
export const LiveReadyEvent = envelope(
  'media.ready',
  Type.Object({
    ...MediaReadyEvent.properties.data.properties,
    variants: Type.Array(LiveVariant),
    media: MediaView,
  }),
);
export const LiveFailedEvent = envelope('media.failed', MediaFailedEvent.properties.data);
export const LiveRejectedEvent = envelope('media.rejected', MediaRejectedEvent.properties.data);
export const LiveDeletedEvent = envelope('media.deleted', MediaDeletedEvent.properties.data);

export const LiveStatusMessage = Type.Union(
  [
    LiveStatusEvent,
    LiveProgressEvent,
    LiveVariantReadyEvent,
    LiveReadyEvent,
    LiveFailedEvent,
    LiveRejectedEvent,
    LiveDeletedEvent,
  ],
  { $id: 'LiveStatusMessage' },
);
export type LiveStatusMessage = Static<typeof LiveStatusMessage>;

export const LiveStatusQuery = Type.Object({
  token: Type.Optional(
    Type.String({ maxLength: 2048, description: 'a stream token from POST …/events/token (browsers)' }),
  ),
  lastEventId: Type.Optional(
    Type.String({ maxLength: 4096, description: 'resume after this SSE id (for clients without headers)' }),
  ),
});

export const LiveStatusToken = Type.Object({
  token: Type.String(),
  url: Type.String({ description: 'the stream path with the token, for `new EventSource(url)`' }),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type LiveStatusToken = Static<typeof LiveStatusToken>;
