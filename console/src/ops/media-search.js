import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get, query } from '../api.js';
import { bytes, when } from './format.js';

const statuses = ['', 'awaiting_upload', 'processing', 'ready', 'failed', 'rejected', 'deleted'];
const kinds = ['', 'image', 'video', 'audio'];

/** Media search by id, owner, status, kind, failure code and creation date. */
export function MediaSearch({ onOpenMedia }) {
  const [filters, setFilters] = useState({
    id: '',
    owner: '',
    status: '',
    kind: '',
    failureCode: '',
    from: '',
    to: '',
  });
  const [items, setItems] = useState(null);
  const [error, setError] = useState('');
  const set = (name) => (e) => setFilters({ ...filters, [name]: e.target.value.trim() });
  const search = async (event) => {
    event?.preventDefault();
    setError('');
    const params = {
      ...filters,
      from: filters.from && new Date(filters.from).toISOString(),
      to: filters.to && new Date(filters.to).toISOString(),
    };
    try {
      setItems((await get(`/v1/ops/media${query(params)}`)).items);
    } catch (e) {
      setError(e.message);
    }
  };
  useEffect(() => {
    search();
  }, []);
  return html`
    <form onSubmit=${search} class="filters" aria-label="Media search">
      <label>Media id <input name="id" value=${filters.id} onInput=${set('id')} /></label>
      <label>Owner <input name="owner" value=${filters.owner} onInput=${set('owner')} /></label>
      <label>Status <select name="status" value=${filters.status} onChange=${set('status')}>
        ${statuses.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select></label>
      <label>Kind <select name="kind" value=${filters.kind} onChange=${set('kind')}>
        ${kinds.map((k) => html`<option value=${k}>${k || 'any'}</option>`)}</select></label>
      <label>Failure code <input name="failureCode" value=${filters.failureCode} onInput=${set('failureCode')} /></label>
      <label>Created from <input type="date" value=${filters.from} onInput=${set('from')} /></label>
      <label>Created before <input type="date" value=${filters.to} onInput=${set('to')} /></label>
      <button type="submit">Search</button>
    </form>
    ${error && html`<p role="alert" class="error">${error}</p>`}
    ${items?.length === 0 && html`<p class="muted">No media match.</p>`}
    ${
      items?.length > 0 &&
      html`<div class="scroll"><table>
        <caption class="visually-hidden">Matching media, newest first</caption>
        <thead><tr><th scope="col">Media</th><th scope="col">Owner</th><th scope="col">Kind</th><th scope="col">Status</th>
          <th scope="col">Failure</th><th scope="col">Size</th><th scope="col">Created</th></tr></thead>
        <tbody>${items.map(
          (m) => html`<tr data-media-id=${m.id}>
            <td><button type="button" class="link" onClick=${() => onOpenMedia(m.id)}>${m.filename} · ${m.id.slice(0, 8)}</button></td>
            <td>${m.ownerId}</td><td>${m.kind}</td><td><span class=${`status status-${m.status}`}>${m.status}</span></td>
            <td>${m.failureCode ?? ''}</td><td>${bytes(m.sizeBytes)}</td><td>${when(m.createdAt)}</td></tr>`,
        )}</tbody></table></div>`
    }
  `;
}
