import type { LifecycleEvent } from '../lifecycle.ts';

const subject = {
  mediaId: '0b5e3c1e-8f4a-4c51-9d3e-2f7a6b1c9d40',
  ownerId: 'user-42',
} as const;

/** One event of each type, as the README shows them; the schema test holds each to both schemas. */
export const lifecycleExamples: LifecycleEvent[] = [
  {
    id: '6f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b',
    version: 1,
    type: 'media.variant.ready',
    timestamp: '2026-12-03T19:02:11.120Z',
    data: {
      ...subject,
      kind: 'video',
      variant: { quality: 'low', format: 'mp4', width: 640, height: 360, bytes: 1843200 },
    },
  },
  {
    id: '7a2e3d4c-5b6f-4071-9b8c-0d1e2f3a4b5c',
    version: 1,
    type: 'media.ready',
    timestamp: '2026-12-03T19:02:15.804Z',
    data: {
      ...subject,
      kind: 'video',
      variants: [
        { quality: 'low', format: 'mp4', width: 640, height: 360, bytes: 1843200 },
        { quality: 'high', format: 'mp4', width: 1280, height: 720, bytes: 5242880 },
        { quality: 'poster', format: 'webp', width: 1280, height: 720, bytes: 48213 },
      ],
    },
  },
  {
    id: '8b3f4e5d-6c70-4182-8c9d-1e2f3a4b5c6d',
    version: 1,
    type: 'media.updated',
    timestamp: '2026-12-03T19:03:00.001Z',
    data: { ...subject, kind: 'video', visibility: 'public', position: 0 },
  },
  {
    id: '9c405f6e-7d81-4293-9dae-2f3a4b5c6d7e',
    version: 1,
    type: 'media.failed',
    timestamp: '2026-12-03T19:04:41.512Z',
    data: {
      ...subject,
      kind: 'image',
      reason: { code: 'image_undecodable', detail: 'the image could not be decoded' },
    },
  },
  {
    id: 'ad516a7f-8e92-43a4-8ebf-3a4b5c6d7e8f',
    version: 1,
    type: 'media.rejected',
    timestamp: '2026-12-03T19:05:02.377Z',
    data: {
      ...subject,
      kind: 'image',
      reason: { code: 'moderation_rejected', detail: 'rejected for nudity 0.97' },
      by: 'moderation',
    },
  },
  {
    id: 'be627b80-9fa3-44b5-9fc0-4b5c6d7e8f90',
    version: 1,
    type: 'media.deleted',
    timestamp: '2026-12-03T19:06:30.000Z',
    data: { ...subject, kind: 'image', by: 'owner' },
  },
];
