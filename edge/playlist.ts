/**
 * HLS packages are many objects (playlists, init segments, media segments) under one `…/hls/` prefix,
 * authorised as one: by the variant row of their master playlist.
 */
export function hlsMasterKey(key: string): string | undefined {
  const at = key.indexOf('/hls/');
  return at < 0 ? undefined : `${key.slice(0, at)}/hls/master.m3u8`;
}

export function isPlaylist(key: string): boolean {
  return key.endsWith('.m3u8');
}

/**
 * What a video player fetches after the playlist or as a progressive download: renditions, HLS init and
 * media segments (fMP4, or MPEG-TS for a chunked video). Players send their configured headers on each of these requests, redirects included.
 */
export function isPlayback(key: string): boolean {
  return /\.(mp4|m4a|m4s|ts)$/.test(key);
}

/**
 * A chunked video's playlists change while it encodes: an EVENT media playlist gains a segment per chunk,
 * and the master gains rungs as they complete. A player polls an EVENT playlist every target duration,
 * so neither may be cached for longer than a moment; a finished (VOD) media playlist never changes.
 */
export function playlistMaxAgeSeconds(body: string): number {
  if (body.includes('#EXT-X-PLAYLIST-TYPE:EVENT')) return 0;
  if (body.includes('#EXT-X-STREAM-INF')) return 2;
  return 60;
}

/**
 * Playlists reference their segments by relative path; after a redirect to a signed storage URL those
 * paths would resolve without a signature. The edge therefore answers playlists itself, with every
 * reference rewritten to an absolute edge URL that carries the viewer's token.
 */
export function rewritePlaylist(body: string, playlistKey: string, urlFor: (key: string) => string): string {
  const base = playlistKey.slice(0, playlistKey.lastIndexOf('/') + 1);
  const resolve = (reference: string) => urlFor(normalise(`${base}${reference}`));
  return body
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      if (trimmed === '') return line;
      if (trimmed.startsWith('#'))
        return line.replace(/URI="([^"]+)"/g, (_, uri: string) => `URI="${resolve(uri)}"`);
      return resolve(trimmed);
    })
    .join('\n');
}

function normalise(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '..') out.pop();
    else if (part !== '.' && part !== '') out.push(part);
  }
  return out.join('/');
}
