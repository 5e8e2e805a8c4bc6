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
