import { type Static, Type } from '@sinclair/typebox';
import { Uuid } from './ids.ts';

export const mediaStatuses = [
  'awaiting_upload',
  'processing',
  'ready',
  'failed',
  'rejected',
  'deleted',
] as const;
export type MediaStatus = (typeof mediaStatuses)[number];

/** Gone from the gallery: their slots are closed and nothing lists, moves or shares them. */
export const retiredStatuses: MediaStatus[] = ['deleted', 'rejected'];

export const Variant = Type.Object({
  quality: Type.String(),
  format: Type.String(),
  width: Type.Union([Type.Integer(), Type.Null()]),
  height: Type.Union([Type.Integer(), Type.Null()]),
  bytes: Type.Integer(),
  url: Type.String(),
});

export const MediaView = Type.Object(
  {
    id: Uuid(),
    kind: Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('audio')]),
    status: Type.Union(mediaStatuses.map((s) => Type.Literal(s))),
    contentType: Type.String(),
    size: Type.Integer(),
    visibility: Type.Union([Type.Literal('private'), Type.Literal('public')]),
    url: Type.Union([Type.String(), Type.Null()], {
      description: 'the best rendition; when processing failed, the original (its owner only)',
    }),
    thumbnailUrl: Type.Union([Type.String(), Type.Null()]),
    placeholder: Type.Union([Type.String(), Type.Null()]),
    variants: Type.Array(Variant),
    metadata: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
    progress: Type.Union([Type.Record(Type.String(), Type.Number()), Type.Null()], {
      description: 'per-output progress 0..1 while processing',
    }),
    position: Type.Integer(),
    moderation: Type.Union(
      [
        Type.Literal('pending'),
        Type.Literal('allowed'),
        Type.Literal('rejected'),
        Type.Literal('skipped'),
        Type.Null(),
      ],
      {
        description:
          '`pending` while the vendor judges a long video asynchronously: until its verdict only the owner sees the media, even a public one',
      },
    ),
    failure: Type.Union([Type.Object({ code: Type.String(), detail: Type.String() }), Type.Null()], {
      description: 'why processing failed; on a ready media (`outputs_failed`), which outputs are missing',
    }),
    createdAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'MediaView' },
);
export type MediaView = Static<typeof MediaView>;

export const MediaParams = Type.Object({ mediaId: Uuid() });

export const MediaListQuery = Type.Object(
  {
    owner: Type.Literal('me'),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    // The last media of the previous page, not its slot: a delete shifts every slot after it.
    after: Type.Optional(Uuid()),
  },
  { additionalProperties: false },
);

export const MediaList = Type.Object({
  items: Type.Array(MediaView),
  nextAfter: Type.Union([Uuid(), Type.Null()]),
});

export const UpdateMediaBody = Type.Object(
  {
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
    visibility: Type.Optional(Type.Union([Type.Literal('private'), Type.Literal('public')])),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateMediaBody = Static<typeof UpdateMediaBody>;
