import { type Static, Type } from '@sinclair/typebox';
import { Uuid } from './ids.ts';
import { Text } from './text.ts';

/**
 * What a moderation vendor (or the relay in front of it) posts to POST /v1/webhooks/moderation once it
 * has judged media it answered `pending` for. `eventId` is the vendor's id for this delivery: vendors
 * deliver at least once, so the route records it and answers a repeat without acting twice.
 */
export const ModerationWebhookBody = Type.Object(
  {
    eventId: Text({ maxLength: 200 }),
    vendor: Text({ maxLength: 100 }),
    mediaId: Uuid(),
    verdict: Type.Union([Type.Literal('allowed'), Type.Literal('rejected')]),
    categories: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Text({ maxLength: 200 }),
            score: Type.Number({ minimum: 0, maximum: 1 }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 100 },
      ),
    ),
    /** The job id returned with the `pending` verdict, to match the delivery to the judgement asked for. */
    vendorJobId: Type.Optional(Text({ maxLength: 200 })),
  },
  { $id: 'ModerationWebhookBody', additionalProperties: false },
);
export type ModerationWebhookBody = Static<typeof ModerationWebhookBody>;

/**
 * What Sightengine posts to a video job's callback URL (its own format, unsigned): the job's media id and
 * its state. Vendors add fields, so every level admits more; only what routing needs is required. The
 * body is a wake-up call: the verdict is read from the vendor's status endpoint.
 */
export const SightengineCallbackBody = Type.Object(
  {
    media: Type.Object({ id: Text({ maxLength: 200 }) }, { additionalProperties: true }),
    data: Type.Object(
      { status: Text({ maxLength: 50 }) },
      { additionalProperties: true, description: '`ongoing`, `finished`, `stopped` or `failure`' },
    ),
  },
  { $id: 'SightengineCallbackBody', additionalProperties: true },
);
export type SightengineCallbackBody = Static<typeof SightengineCallbackBody>;

export const SightengineCallbackParams = Type.Object(
  { token: Type.String({ maxLength: 200 }) },
  { additionalProperties: false },
);
