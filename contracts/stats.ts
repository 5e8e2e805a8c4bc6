import { type Static, Type } from '@sinclair/typebox';

const Count = Type.Integer({ minimum: 0 });
const Seconds = Type.Union([Type.Number(), Type.Null()], { description: 'null when nothing was measured' });

export const StatsQuery = Type.Object(
  {
    windowHours: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 720,
        default: 24,
        description: 'how far back processing health looks',
      }),
    ),
  },
  { additionalProperties: false },
);
export type StatsQuery = Static<typeof StatsQuery>;

export const Stats = Type.Object({
  storage: Type.Object({
    objects: Type.Integer({ description: 'distinct keys referenced by live media and their variants' }),
    bytesStored: Type.Integer({ description: 'their bytes, each physical key counted once' }),
    bytesSavedByDedupe: Type.Integer({
      description: 'what the media sharing those keys would have stored with a copy each',
    }),
  }),
  uploadsPerDay: Type.Array(
    Type.Object({
      day: Type.String({ format: 'date', description: 'UTC' }),
      kind: Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('audio')]),
      uploads: Count,
    }),
    { description: 'media created (sessions and instant copies) over the last 30 days, oldest first' },
  ),
  processing: Type.Object({
    windowHours: Type.Integer(),
    ready: Count,
    failed: Count,
    failureRate: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()], {
      description: 'failed / (ready + failed) among media that finished processing in the window',
    }),
    timeToReadySeconds: Type.Object({ p50: Seconds, p95: Seconds }),
  }),
});
export type Stats = Static<typeof Stats>;
