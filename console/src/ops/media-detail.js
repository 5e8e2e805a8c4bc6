import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { bytes, when } from './format.js';

function Preview({ object }) {
  if (['webp', 'avif', 'jpeg', 'png', 'gif'].includes(object.format) || object.format.startsWith('image/'))
    return html`<img src=${object.url} alt=${`${object.role} rendition`} loading="lazy" />`;
  if (object.format === 'mp4' || object.format.startsWith('video/'))
    return html`<video src=${object.url} controls muted preload="none" aria-label=${`${object.role} rendition`}></video>`;
  if (object.format === 'm4a' || object.format.startsWith('audio/'))
    return html`<audio src=${object.url} controls preload="none" aria-label=${`${object.role} rendition`}></audio>`;
  return html`<a href=${object.url}>open</a>`;
}

/** Everything about one media: renditions to look at, the trace timeline, moderation, storage keys. */
export function MediaDetail({ mediaId, onReplay, onClose }) {
  const [trace, setTrace] = useState(null);
  const [objects, setObjects] = useState(null);
  const [error, setError] = useState('');
  const load = () =>
    Promise.all([get(`/v1/ops/media/${mediaId}/trace`), get(`/v1/ops/media/${mediaId}/objects`)])
      .then(([t, o]) => {
        setTrace(t);
        setObjects(o.objects);
      })
      .catch((e) => setError(e.message));
  useEffect(() => {
    setTrace(null);
    load();
  }, [mediaId]);
  if (error) return html`<p role="alert" class="error">${error}</p>`;
  if (!trace) return html`<p aria-busy="true">Loading ${mediaId}…</p>`;
  const m = trace.media;
  const verdicts = trace.events.filter(
    (e) => e.actor === 'moderation' || e.detail?.moderation || e.detail?.verdict,
  );
  return html`
    <section class="detail" aria-labelledby="detail-title">
      <h2 id="detail-title">Media ${m.id}</h2>
      <p>
        <span class=${`status status-${m.status}`} data-testid="detail-status">${m.status}</span> · ${m.kind} · ${m.filename}
        · owner ${m.ownerId} · ${bytes(m.sizeBytes)} · ${m.visibility}
        ${m.failureCode && html` · <span class="error">${m.failureCode}: ${m.failureDetail}</span>`}
      </p>
      <div class="row">
        <button type="button" onClick=${load}>Refresh</button>
        <button type="button" onClick=${() => onReplay(m.id)}>Replay this media…</button>
        <button type="button" onClick=${onClose}>Back to search</button>
      </div>

      <h3>Timeline</h3>
      <ol class="timeline" aria-label="Status history">
        ${trace.events.map(
          (
            e,
          ) => html`<li><time datetime=${e.at}>${when(e.at)}</time> ${e.fromStatus ?? '∅'} → <strong>${e.toStatus}</strong>
            <span class="muted"> by ${e.actor}</span>${e.detail && html` <code>${JSON.stringify(e.detail).slice(0, 160)}</code>`}</li>`,
        )}
      </ol>
      <h3>Worker runs</h3>
      ${trace.processing.length === 0 && html`<p class="muted">No worker report.</p>`}
      ${trace.processing.map(
        (run) => html`<div class="run">
          <p>${when(run.at)} → ${run.outcome} on ${run.worker ? `${run.worker.hostname} (pid ${run.worker.pid})` : 'unknown worker'}, ${run.totalMs ?? '?'} ms</p>
          <ul class="steps">${run.steps.map(
            (
              s,
            ) => html`<li><span class="bar" style=${`--w:${Math.max(2, Math.round((s.ms / Math.max(1, run.totalMs ?? s.ms)) * 100))}%`}></span>
              ${s.name} ${s.ms} ms${s.ok ? '' : ' (failed)'}</li>`,
          )}</ul></div>`,
      )}
      <h3>Events</h3>
      <ol class="events" aria-label="Outbox events">
        ${trace.outbox.map(
          (o) => html`<li data-event-type=${o.eventType} data-replay=${o.replayOf ? 'yes' : 'no'}>
            <time datetime=${o.createdAt}>${when(o.createdAt)}</time> <strong>${o.eventType}</strong> on ${o.topic}${' '}
            ${o.replayOf ? html` · <em>replay of ${o.replayOf.slice(0, 8)}</em>` : ''}
            · ${o.publishedAt ? `published ${when(o.publishedAt)}` : 'waiting'}${o.lastError ? ` · ${o.lastError}` : ''}</li>`,
        )}
      </ol>
      <h3>Moderation</h3>
      <p>Status: ${m.moderationStatus ?? 'not moderated'}${m.moderationJobId ? ` (vendor job ${m.moderationJobId})` : ''}</p>
      ${verdicts.length > 0 && html`<ul>${verdicts.map((e) => html`<li>${when(e.at)} <code>${JSON.stringify(e.detail)}</code></li>`)}</ul>`}
      <h3>Renditions and storage keys</h3>
      <ul class="objects">
        ${(objects ?? []).map(
          (o) => html`<li>
            <div class="preview"><${Preview} object=${o} /></div>
            <p><strong>${o.role}</strong> · ${o.format} · ${bytes(o.bytes)}<br /><code>${o.objectKey}</code><br />
              referenced by ${o.referencedBy.map((r) => `${r.mediaId.slice(0, 8)} (${r.ownerId}, ${r.status})`).join(', ')}</p>
          </li>`,
        )}
      </ul>
    </section>
  `;
}
