import { type Static, Type } from '@sinclair/typebox';
import { Uuid } from './ids.ts';
import { MediaView } from './media.ts';
import { Text } from './text.ts';

export const CreateUploadBody = Type.Object(
  {
    // A file name is shown to people and stored as text: no controls, bidi overrides or line breaks.
    filename: Text({ maxLength: 255 }),
    contentType: Text({ minLength: 3, maxLength: 100 }),
    size: Type.Integer({ minimum: 1, maximum: 5 * 1024 ** 4 }),
    sha256: Type.Optional(Type.String({ minLength: 64, maxLength: 64, pattern: '^[0-9a-f]{64}$' })),
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 100_000 })),
  },
  { additionalProperties: false },
);
export type CreateUploadBody = Static<typeof CreateUploadBody>;

export const PartUrl = Type.Object({ partNumber: Type.Integer(), url: Type.String() });

export const UploadSession = Type.Object({
  mediaId: Uuid(),
  uploadId: Uuid(),
  partSize: Type.Integer(),
  partCount: Type.Integer(),
  parts: Type.Array(PartUrl),
  expiresAt: Type.String({ format: 'date-time' }),
});
export type UploadSession = Static<typeof UploadSession>;

export const DeduplicatedUpload = Type.Object({ deduplicated: Type.Literal(true), media: MediaView });

export const UploadParams = Type.Object({ uploadId: Uuid() });

export const PartNumbersBody = Type.Object(
  {
    partNumbers: Type.Array(Type.Integer({ minimum: 1, maximum: 10_000 }), {
      minItems: 1,
      maxItems: 10_000,
      uniqueItems: true,
    }),
  },
  { additionalProperties: false },
);

export const PartUrls = Type.Object({
  parts: Type.Array(PartUrl),
  expiresAt: Type.String({ format: 'date-time' }),
});

export const UploadState = Type.Object({
  uploadId: Uuid(),
  mediaId: Uuid(),
  state: Type.Union([
    Type.Literal('open'),
    Type.Literal('completing'),
    Type.Literal('completed'),
    Type.Literal('aborted'),
    Type.Literal('expired'),
  ]),
  partSize: Type.Integer(),
  partCount: Type.Integer(),
  expiresAt: Type.String({ format: 'date-time' }),
  uploadedParts: Type.Array(
    Type.Object({ partNumber: Type.Integer(), etag: Type.String(), size: Type.Integer() }),
  ),
});
export type UploadState = Static<typeof UploadState>;

export const CompleteUploadBody = Type.Object(
  {
    parts: Type.Optional(
      Type.Array(
        Type.Object(
          { partNumber: Type.Integer({ minimum: 1, maximum: 10_000 }), etag: Text({ maxLength: 200 }) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 10_000 },
      ),
    ),
  },
  { additionalProperties: false },
);
export type CompleteUploadBody = Static<typeof CompleteUploadBody>;
