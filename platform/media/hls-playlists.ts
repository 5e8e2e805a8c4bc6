/**
 * HLS playlists for chunked renditions: each finished chunk is one MPEG-TS segment, named by a relative
 * URI so the edge can rewrite it to a signed edge URL (edge/playlist.ts) and serve the text unchanged
 * otherwise.
 */

export interface PlaylistSegment {
  uri: string;
  durationSeconds: number;
}

export interface PlaylistVariant {
  uri: string;
  /** Peak bits per second, as the HLS spec defines BANDWIDTH. */
  bandwidth: number;
  width: number;
  height: number;
  /** RFC 6381, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs?: string;
}

/**
 * A media playlist. While chunks are still coming it is an EVENT playlist (players may start and keep
 * polling; segments are only ever appended); once `ended`, VOD with `#EXT-X-ENDLIST`.
 */
export function mediaPlaylist(segments: readonly PlaylistSegment[], options: { ended: boolean }): string {
  const longest = Math.max(1, ...segments.map((segment) => segment.durationSeconds));
  const lines = [
    '#EXTM3U',
    '#EXT-X-VERSION:3',
    // Every chunk starts with a keyframe of a closed GOP.
    '#EXT-X-INDEPENDENT-SEGMENTS',
    // A segment's duration rounded to the nearest integer must not exceed it; ceil is always safe.
    `#EXT-X-TARGETDURATION:${Math.ceil(longest - 1e-6)}`,
    '#EXT-X-MEDIA-SEQUENCE:0',
    `#EXT-X-PLAYLIST-TYPE:${options.ended ? 'VOD' : 'EVENT'}`,
  ];
  for (const segment of segments) {
    assertUri(segment.uri);
    lines.push(`#EXTINF:${segment.durationSeconds.toFixed(6)},`, segment.uri);
  }
  if (options.ended) lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}

/** The master playlist, lowest bandwidth first (players start at the first listed variant). */
export function masterPlaylist(variants: readonly PlaylistVariant[]): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:3', '#EXT-X-INDEPENDENT-SEGMENTS'];
  for (const variant of [...variants].sort((a, b) => a.bandwidth - b.bandwidth)) {
    assertUri(variant.uri);
    const attributes = [
      `BANDWIDTH=${Math.ceil(variant.bandwidth)}`,
      ...(variant.codecs ? [`CODECS="${variant.codecs}"`] : []),
      `RESOLUTION=${variant.width}x${variant.height}`,
    ];
    lines.push(`#EXT-X-STREAM-INF:${attributes.join(',')}`, variant.uri);
  }
  return `${lines.join('\n')}\n`;
}

/** A URI on its own line must be one line and not read as a tag; relative, so the edge can sign it. */
function assertUri(uri: string): void {
  if (!uri || /[\r\n]/.test(uri) || uri.startsWith('#') || /^[a-z][a-z0-9+.-]*:/i.test(uri))
    throw new Error(`not a relative playlist URI: ${JSON.stringify(uri)}`);
}
