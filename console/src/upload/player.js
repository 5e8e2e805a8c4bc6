import Hls from 'hls.js';
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const rungOrder = ['low', 'medium', '480p', '720p', '1080p', 'high'];

/** The best progressive rung published so far: a video plays from its first rendition, before HLS exists. */
function progressive(variants) {
  const mp4 = variants.filter((v) => v.format === 'mp4' || v.format === 'm4a' || v.format === 'aac');
  return mp4.sort(
    (a, b) => (b.width ?? 0) - (a.width ?? 0) || rungOrder.indexOf(b.quality) - rungOrder.indexOf(a.quality),
  )[0];
}

/** hls.js (adaptive, its levels listed) once the HLS rendition is published; the progressive rung until then. */
export function VideoPlayer({ media }) {
  const ref = useRef(null);
  const [levels, setLevels] = useState([]);
  const hlsVariant = media.variants.find((v) => v.format === 'hls');
  const fallback = progressive(media.variants);
  const poster = media.variants.find((v) => v.quality === 'poster')?.url ?? media.thumbnailUrl ?? undefined;
  const source = hlsVariant?.url ?? fallback?.url;

  useEffect(() => {
    const video = ref.current;
    if (!video || !source) return undefined;
    if (!hlsVariant || !Hls.isSupported()) {
      video.src = source;
      return undefined;
    }
    const hls = new Hls();
    hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) =>
      setLevels(data.levels.map((l) => `${l.height}p · ${Math.round(l.bitrate / 1000)} kb/s`)),
    );
    hls.on(Hls.Events.ERROR, (_e, data) => {
      // A playlist the browser may not fetch (no CORS at the media host): the progressive rung still plays.
      if (data.fatal && fallback) {
        hls.destroy();
        video.src = fallback.url;
      }
    });
    hls.loadSource(source);
    hls.attachMedia(video);
    return () => hls.destroy();
  }, [source]);

  if (!source) return html`<p class="muted">Waiting for the first rendition…</p>`;
  return html`
    <video ref=${ref} controls playsinline muted preload="metadata" poster=${poster}
      aria-label="Video player" data-source=${hlsVariant ? 'hls' : 'progressive'}></video>
    ${levels.length > 0 && html`<p class="muted rungs">Rungs: ${levels.join(', ')}</p>`}
  `;
}
