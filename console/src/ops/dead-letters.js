import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { useSettings } from '../settings.js';
import { when } from './format.js';

/** Dead letters per topic with the error each died of; redrive one, or every one of the topic. */
export function DeadLetters({ onOpenMedia }) {
  const topics = useSettings()?.topics ?? ['optimize.request'];
  const [topic, setTopic] = useState('optimize.request');
  const [letters, setLetters] = useState(null);
  const [message, setMessage] = useState('');
  const load = () =>
    get(`/v1/ops/dlq?topic=${encodeURIComponent(topic)}`)
      .then((list) => setLetters(list.items))
      .catch((e) => setMessage(e.message));
  useEffect(() => {
    load();
  }, [topic]);
  const redrive = async (ids) => {
    try {
      const result = await post('/v1/ops/dlq/redrive', ids ? { topic, ids } : { topic });
      setMessage(
        `Redriven: ${result.redriven} message(s); ${result.requeuedMedia} media back to processing.`,
      );
    } catch (e) {
      setMessage(e.message);
    }
    await load();
  };
  return html`
    <div class="row">
      <label>Topic
        <select value=${topic} onChange=${(e) => setTopic(e.target.value)}>
          ${topics.map((t) => html`<option value=${t}>${t}</option>`)}
        </select>
      </label>
      <button type="button" onClick=${load}>Refresh</button>
      <button type="button" onClick=${() => redrive()} disabled=${!letters?.length}>Redrive all</button>
    </div>
    <p role="status" class="notice">${message}</p>
    ${letters?.length === 0 && html`<p class="muted">No dead letters on ${topic}.</p>`}
    <ul class="letters">
      ${(letters ?? []).map(
        (l) => html`<li class="letter" data-key=${l.key}>
          <p><strong>${l.eventType}</strong> · key
            <button type="button" class="link" onClick=${() => onOpenMedia(l.key)}>${l.key}</button>
            · group ${l.group} · ${l.attempts} attempts · ${when(l.failedAt)}</p>
          <pre class="error-text">${l.error.message}</pre>
          <button type="button" onClick=${() => redrive([l.id])} aria-label=${`Redrive the dead letter for ${l.key}`}>Redrive</button>
        </li>`,
      )}
    </ul>
  `;
}
