/** Content types the platform accepts, grouped by kind. What a file *is* gets judged by its bytes. */
export const mediaKinds = ['image', 'video', 'audio'] as const;
export type MediaKind = (typeof mediaKinds)[number];

/**
 * A Map, not an object literal: the key is client text, and `"constructor"` or `"__proto__"` would find
 * inherited members of a plain object and pass as an accepted type.
 */
export const acceptedContentTypes: ReadonlyMap<string, MediaKind> = new Map([
  ['image/jpeg', 'image'],
  ['image/png', 'image'],
  ['image/webp', 'image'],
  ['image/gif', 'image'],
  ['image/heic', 'image'],
  ['image/heif', 'image'],
  ['image/avif', 'image'],
  ['video/mp4', 'video'],
  ['video/quicktime', 'video'],
  ['video/webm', 'video'],
  ['video/x-matroska', 'video'],
  ['audio/mpeg', 'audio'],
  ['audio/mp4', 'audio'],
  ['audio/aac', 'audio'],
  ['audio/x-m4a', 'audio'],
  ['audio/wav', 'audio'],
  ['audio/x-wav', 'audio'],
  ['audio/flac', 'audio'],
  ['audio/ogg', 'audio'],
  ['audio/opus', 'audio'],
]);

export function kindOf(contentType: string): MediaKind | undefined {
  return acceptedContentTypes.get(contentType.toLowerCase());
}
