import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { DeadLetters } from './dead-letters.js';
import { MediaDetail } from './media-detail.js';
import { MediaSearch } from './media-search.js';
import './ops.css';
import { Overview } from './overview.js';
import { Replay } from './replay.js';

const tabs = [
  ['overview', 'Overview'],
  ['dlq', 'Dead letters'],
  ['replay', 'Replay'],
  ['media', 'Media'],
];

/** The operators' console: every view reads and acts through the admin routes under /v1/ops. */
export function OpsPage() {
  const [tab, setTab] = useState('overview');
  const [mediaId, setMediaId] = useState(null);
  const [replayId, setReplayId] = useState('');
  const openMedia = (id) => {
    setMediaId(id);
    setTab('media');
  };
  const keyNav = (event, index) => {
    const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
    if (!step) return;
    const next = tabs[(index + step + tabs.length) % tabs.length][0];
    setTab(next);
    document.getElementById(`tab-${next}`)?.focus();
  };
  return html`
    <h1>Operations</h1>
    <div role="tablist" aria-label="Operations views" class="tabs">
      ${tabs.map(
        (
          [id, label],
          i,
        ) => html`<button type="button" role="tab" id=${`tab-${id}`} aria-selected=${tab === id}
          aria-controls="ops-panel" tabindex=${tab === id ? 0 : -1} onClick=${() => setTab(id)}
          onKeyDown=${(e) => keyNav(e, i)}>${label}</button>`,
      )}
    </div>
    <div role="tabpanel" id="ops-panel" aria-labelledby=${`tab-${tab}`}>
      ${tab === 'overview' && html`<${Overview} onOpenMedia=${openMedia} />`}
      ${tab === 'dlq' && html`<${DeadLetters} onOpenMedia=${openMedia} />`}
      ${tab === 'replay' && html`<${Replay} initialMediaId=${replayId} />`}
      ${
        tab === 'media' &&
        (mediaId
          ? html`<${MediaDetail} mediaId=${mediaId} onClose=${() => setMediaId(null)}
              onReplay=${(id) => {
                setReplayId(id);
                setTab('replay');
              }} />`
          : html`<${MediaSearch} onOpenMedia=${openMedia} />`)
      }
    </div>
  `;
}
