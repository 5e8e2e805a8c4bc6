import { type Static, Type } from '@sinclair/typebox';

/**
 * What a moderation vendor (or the relay in front of it) posts to POST /v1/webhooks/moderation once it
 * has judged media it answered `pending` for. `eventId` is the vendor's id for this delivery: vendors
 * deliver at least once, so the route records it and answers a repeat without acting twice.
 */
export const ModerationWebhookBody = Type.Object(
  {
    eventId: Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$' }),
    vendor: Type.String({ minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f]+$' }),
    mediaId: Type.String({ format: 'uuid' }),
    verdict: Type.Union([Type.Literal('allowed'), Type.Literal('rejected')]),
    categories: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 200 }),
            score: Type.Number({ minimum: 0, maximum: 1 }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 100 },
      ),
    ),
    /** The job id returned with the `pending` verdict, to match the delivery to the judgement asked for. */
    vendorJobId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { $id: 'ModerationWebhookBody', additionalProperties: false },
);
export type ModerationWebhookBody = Static<typeof ModerationWebhookBody>;
