import { type Static, Type } from '@sinclair/typebox';

/** Logical topic names; the bus prefixes them with KAFKA_TOPIC_PREFIX (default `media.`). */
export const topics = {
  optimizeRequest: 'optimize.request',
  optimizeResult: 'optimize.result',
  virusDetected: 'virus.detected',
} as const;
export type Topic = (typeof topics)[keyof typeof topics];

export const eventSchemaVersion = '1';

export const ProbeSummary = Type.Record(Type.String(), Type.Unknown());

export const OptimizeRequest = Type.Object({
  mediaId: Type.String(),
  bucket: Type.String(),
  objectKey: Type.String(),
  kind: Type.Union([Type.Literal('image'), Type.Literal('video'), Type.Literal('audio')]),
  contentType: Type.String(),
  canonicalUrl: Type.String(),
  probe: ProbeSummary,
});
export type OptimizeRequest = Static<typeof OptimizeRequest>;

export const ProcessedObject = Type.Object({
  quality: Type.String(),
  format: Type.String(),
  key: Type.String(),
  url: Type.String(),
  width: Type.Union([Type.Integer(), Type.Null()]),
  height: Type.Union([Type.Integer(), Type.Null()]),
  size: Type.Integer(),
});
export type ProcessedObject = Static<typeof ProcessedObject>;

export const OptimizeResult = Type.Object({
  mediaId: Type.String(),
  requestId: Type.String(),
  success: Type.Boolean(),
  processed: Type.Array(ProcessedObject),
  sha256: Type.Union([Type.String({ pattern: '^[0-9a-f]{64}$' }), Type.Null()]),
  placeholder: Type.Optional(Type.String()),
  metadata: Type.Record(Type.String(), Type.Unknown()),
  error: Type.Optional(Type.Object({ code: Type.String(), detail: Type.String() })),
});
export type OptimizeResult = Static<typeof OptimizeResult>;

export const VirusDetected = Type.Object({
  mediaId: Type.String(),
  virusName: Type.String(),
  actionTaken: Type.String(),
});
export type VirusDetected = Static<typeof VirusDetected>;
