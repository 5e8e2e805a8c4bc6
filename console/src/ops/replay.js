import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { useSettings } from '../settings.js';
import { when } from './format.js';

const lifecycleTopic = 'lifecycle';

/** Replay by media or time range, always through a confirmation that says what will be published. */
export function Replay({ initialMediaId = '' }) {
  const topics = useSettings()?.topics ?? [];
  const [mode, setMode] = useState('media');
  const [mediaId, setMediaId] = useState(initialMediaId);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [topic, setTopic] = useState('');
  const [plan, setPlan] = useState(null);
  const [message, setMessage] = useState('');

  const prepare = async (event) => {
    event.preventDefault();
    setMessage('');
    try {
      if (mode === 'media') {
        const rows = await get(`/v1/ops/outbox?state=all&mediaId=${encodeURIComponent(mediaId)}&limit=1000`);
        // The route's rules: originals only, lifecycle facts left out, one optimize request per media.
        const originals = rows.items.filter((r) => !r.replayOf && r.topic !== lifecycleTopic);
        const requests = originals.some((r) => r.topic === 'optimize.request') ? 1 : 0;
        const others = originals.filter((r) => r.topic !== 'optimize.request');
        setPlan({
          body: { mediaId },
          text: `Publish ${requests + others.length} event(s) of media ${mediaId} again as new events: ${
            requests
              ? 'its optimize request, rebuilt from the media as it is now (the worker processes it again)'
              : 'no optimize request'
          }${others.length ? ` and ${others.map((r) => r.eventType).join(', ')}` : ''}. Lifecycle events are not repeated; a deleted or rejected media is skipped.`,
        });
      } else {
        const body = {
          from: new Date(from).toISOString(),
          to: new Date(to).toISOString(),
          ...(topic ? { topic } : {}),
        };
        setPlan({
          body,
          text: `Publish again, as new events, every original event written between ${when(body.from)} and ${when(body.to)} on ${
            topic || `every topic but ${lifecycleTopic}`
          }. Optimize requests are rebuilt from their media as they are now (one per media); deleted or rejected media are skipped.`,
        });
      }
    } catch (e) {
      setMessage(e.message);
    }
  };
  const confirm = async () => {
    try {
      const result = await post('/v1/ops/outbox/replay', plan.body);
      const skipped = result.skipped.map((s) => `${s.mediaId} (${s.reason})`).join(', ');
      setMessage(`Replayed ${result.replayed.length} event(s).${skipped ? ` Skipped: ${skipped}.` : ''}`);
    } catch (e) {
      setMessage(e.message);
    }
    setPlan(null);
  };

  return html`
    <form onSubmit=${prepare} class="stack">
      <fieldset>
        <legend>Replay</legend>
        <label class="check"><input type="radio" name="mode" checked=${mode === 'media'} onChange=${() => setMode('media')} /> One media's events</label>
        <label class="check"><input type="radio" name="mode" checked=${mode === 'range'} onChange=${() => setMode('range')} /> A time range</label>
      </fieldset>
      ${
        mode === 'media'
          ? html`<label>Media id <input name="replay-media" value=${mediaId} onInput=${(e) => setMediaId(e.target.value.trim())} required /></label>`
          : html`<label>From <input type="datetime-local" value=${from} onInput=${(e) => setFrom(e.target.value)} required /></label>
              <label>To <input type="datetime-local" value=${to} onInput=${(e) => setTo(e.target.value)} required /></label>
              <label>Topic <select value=${topic} onChange=${(e) => setTopic(e.target.value)}>
                <option value="">every topic</option>
                ${topics.map((t) => html`<option value=${t}>${t}</option>`)}
              </select></label>`
      }
      <button type="submit">Review replay</button>
    </form>
    ${
      plan &&
      html`<div role="alertdialog" aria-labelledby="replay-confirm-title" aria-describedby="replay-confirm-text" class="confirm">
        <h3 id="replay-confirm-title">Confirm replay</h3>
        <p id="replay-confirm-text">${plan.text}</p>
        <button type="button" onClick=${confirm}>Replay now</button>
        <button type="button" onClick=${() => setPlan(null)}>Cancel</button>
      </div>`
    }
    <p role="status" class="notice">${message}</p>
  `;
}
