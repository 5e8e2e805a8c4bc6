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

/** The kind of a lower-case type without parameters, as `mediaTypeEssence` gives it. */
export function kindOf(essence: string): MediaKind | undefined {
  return acceptedContentTypes.get(essence);
}

/** RFC 9110 `type "/" subtype`, then nothing or parameters (`;` after optional blanks). */
const mediaType = /^([!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+)(?:[ \t]*;.*)?$/i;

/**
 * The declared type without its parameters, lower-cased, or undefined when it is no media type. Browsers
 * declare recordings with their codecs (`MediaRecorder` gives `video/webm;codecs=vp8,opus`, unquoted as no
 * grammar allows): what the file is gets judged by its bytes, so the parameters are dropped, not checked.
 */
export function mediaTypeEssence(declared: string): string | undefined {
  return mediaType.exec(declared)?.[1]?.toLowerCase();
}
