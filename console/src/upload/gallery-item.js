import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { thumbHashToDataURL } from 'thumbhash';
import { useLiveStatus } from './live-status.js';
import { VideoPlayer } from './player.js';

function placeholderUrl(placeholder) {
  if (!placeholder) return undefined;
  try {
    return thumbHashToDataURL(Uint8Array.from(atob(placeholder), (c) => c.charCodeAt(0)));
  } catch {
    return undefined;
  }
}

/** The WebP rung nearest a card's width (2× for sharp screens), else the largest there is. */
function displayRung(variants) {
  const webp = variants.filter((v) => v.format === 'webp' && !v.quality.startsWith('thumbnail'));
  const sorted = webp.sort((a, b) => (a.width ?? 0) - (b.width ?? 0));
  return sorted.find((v) => (v.width ?? 0) >= 640) ?? sorted.at(-1);
}

function Picture({ media }) {
  const [loaded, setLoaded] = useState(false);
  const rung = displayRung(media.variants);
  const placeholder = placeholderUrl(media.placeholder);
  return html`
    <div class="picture">
      ${placeholder && html`<img class="placeholder" src=${placeholder} alt="" aria-hidden="true" />`}
      ${
        rung &&
        html`<img class=${loaded ? 'full loaded' : 'full'} src=${rung.url} alt=${`Photo, ${rung.width}×${rung.height}`}
          width=${rung.width} height=${rung.height} onLoad=${() => setLoaded(true)} />`
      }
    </div>
  `;
}

function Progress({ progress }) {
  if (!progress) return null;
  return html`<ul class="progress" aria-label="Processing progress">
    ${Object.entries(progress).map(
      ([name, value]) => html`<li>
        <label>${name} <progress max="1" value=${value}>${Math.round(value * 100)}%</progress></label>
      </li>`,
    )}
  </ul>`;
}

/** One gallery card: the media, its state, and what its owner can do with it. */
export function GalleryItem({ media, index, count, onMove, onVisibility, onDelete, onRefresh, dragProps }) {
  const [confirming, setConfirming] = useState(false);
  const processing = media.status === 'processing';
  const progress = useLiveStatus(media.id, processing, onRefresh);
  const label = `${media.kind} ${index + 1}`;
  return html`
    <li class="card" data-media-id=${media.id} data-kind=${media.kind} data-status=${media.status}
      aria-label=${label} ...${dragProps}>
      <div class="media">
        ${media.kind === 'image' && html`<${Picture} media=${media} />`}
        ${media.kind === 'video' && html`<${VideoPlayer} media=${media} />`}
        ${
          media.kind === 'audio' &&
          html`<audio controls src=${media.variants.find((v) => v.quality === 'medium')?.url ?? media.url}
            aria-label="Audio player"></audio>`
        }
      </div>
      <p class="meta">
        <span class=${`status status-${media.status}`}>${media.status}</span>
        <span class="muted"> · slot ${media.position}${media.kind === 'video' && media.position === 0 ? ' (the video keeps slot 0)' : ''}</span>
        ${media.failure && html`<span class="error"> · ${media.failure.code}</span>`}
      </p>
      <${Progress} progress=${progress} />
      <div class="actions">
        <button type="button" onClick=${() => onMove(media, index - 1)} disabled=${index === 0}
          aria-label=${`Move ${label} earlier`}>◀ Earlier</button>
        <button type="button" onClick=${() => onMove(media, index + 1)} disabled=${index === count - 1}
          aria-label=${`Move ${label} later`}>Later ▶</button>
        <button type="button" aria-pressed=${media.visibility === 'public'}
          onClick=${() => onVisibility(media, media.visibility === 'public' ? 'private' : 'public')}>
          ${media.visibility === 'public' ? 'Public' : 'Private'}
        </button>
        ${
          confirming
            ? html`<button type="button" class="danger" onClick=${() => onDelete(media)}>Really delete</button>
                <button type="button" onClick=${() => setConfirming(false)}>Keep</button>`
            : html`<button type="button" onClick=${() => setConfirming(true)} aria-label=${`Delete ${label}`}>Delete</button>`
        }
      </div>
    </li>
  `;
}
