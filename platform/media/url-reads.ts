/**
 * How ffmpeg and ffprobe read a URL, whether a presigned storage URL answering whole or the gate's
 * range-window server (api/gate/range-window-server.ts) answering in bounded windows: a read that ends
 * before the size the answer announced reconnects at once, so windows follow each other, and a dropped
 * connection is retried for about a second. Never `-reconnect_at_eof`: at the object's true end storage
 * answers 416, and ffmpeg retried that for minutes whenever a demuxer reads to the end — an Ogg or MPEG-TS
 * file's duration, every Matroska file's last chunk, a truncated MP4.
 */
export const URL_READS = ['-reconnect', '1', '-reconnect_delay_max', '2'];

/**
 * The gate's range-window server (api/gate/range-window-server.ts) answers each request with one bounded
 * window: reconnect at every window's end, but give up at once when the next read fails (416 at the
 * file's true end, where the default backoff retried until the probe timed out on Ogg and MPEG-TS).
 */
export const WINDOW_READS = ['-reconnect', '1', '-reconnect_at_eof', '1', '-reconnect_delay_max', '0'];

export function isRemote(input: string): boolean {
  return /^https?:\/\//.test(input);
}
