// The light build: no subtitles, alternate audio or DRM, which mediagate's ladders never carry.
import Hls from 'hls.js/light';
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';

const hlsType = 'application/vnd.apple.mpegurl';
const isHls = (v) => v.quality === 'hls' || v.format === 'm3u8';

/** The largest progressive rung published so far: a video plays from its first rendition, before HLS exists. */
function progressive(variants) {
  const rungs = variants.filter((v) => v.format === 'mp4' || v.format === 'm4a');
  return rungs.sort((a, b) => (b.width ?? 0) - (a.width ?? 0) || b.bytes - a.bytes)[0];
}

/**
 * HLS once its rendition is published: through hls.js where Media Source Extensions exist and the media is
 * on this page's origin (hls.js reads playlists with XHR), natively where there is no MSE (iOS Safari); else,
 * or when hls.js cannot load the stream, the largest progressive rung.
 */
export function VideoPlayer({ media }) {
  const ref = useRef(null);
  const [levels, setLevels] = useState([]);
  const hlsVariant = media.variants.find(isHls);
  const fallback = progressive(media.variants);
  const poster = media.variants.find((v) => v.quality === 'poster')?.url ?? media.thumbnailUrl ?? undefined;
  const source = hlsVariant?.url ?? fallback?.url;
  const [engine, setEngine] = useState('progressive');

  useEffect(() => {
    const video = ref.current;
    if (!video || !source) return undefined;
    // A cross-origin playlist needs the media host's CORS consent, which the edge does not give today.
    const sameOrigin = hlsVariant && new URL(hlsVariant.url, location.href).origin === location.origin;
    if (!hlsVariant || !Hls.isSupported() || !sameOrigin) {
      const native = hlsVariant && !Hls.isSupported() && video.canPlayType(hlsType);
      setEngine(native ? 'native-hls' : 'progressive');
      video.src = native || !hlsVariant ? source : fallback?.url;
      return undefined;
    }
    setEngine('hls.js');
    const hls = new Hls();
    hls.on(Hls.Events.MANIFEST_PARSED, (_e, data) =>
      setLevels(data.levels.map((l) => `${l.height}p ${Math.round(l.bitrate / 1000)} kb/s`)),
    );
    hls.on(Hls.Events.ERROR, (_e, data) => {
      if (data.fatal && fallback) {
        hls.destroy();
        setEngine('progressive');
        video.src = fallback.url;
      }
    });
    hls.loadSource(source);
    hls.attachMedia(video);
    return () => hls.destroy();
  }, [source]);

  if (!source) return html`<p class="muted">Waiting for the first rendition…</p>`;
  const published = media.variants
    .filter((v) => v.format === 'mp4' || v.format === 'm4a')
    .map((v) => `${v.quality} ${v.width ?? ''}${v.height ? `×${v.height}` : ''}`);
  const label = `${engine === 'progressive' ? 'Progressive' : `HLS (${engine})`} · ${
    levels.length > 0 ? levels.join(', ') : `rungs: ${published.join(', ') || 'none yet'}`
  }`;
  return html`
    <div class="player">
      <video ref=${ref} controls playsinline muted preload="metadata" poster=${poster}
        aria-label="Video player" data-engine=${engine}></video>
      <p class="muted rungs">${label}</p>
    </div>
  `;
}
