import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { Chart } from './chart.js';
import { bytes, seconds } from './format.js';

/** The fleet at a glance: the funnel and time to ready over time, the outbox, storage, stuck media. */
export function Overview({ onOpenMedia }) {
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  const load = () =>
    Promise.all([
      get('/v1/ops/stats/timeseries?hours=24&bucketMinutes=60'),
      get('/v1/ops/outbox?state=pending&limit=10'),
      get('/v1/ops/stats'),
      get('/v1/ops/media/stuck?limit=20'),
    ])
      .then(([series, outbox, stats, stuck]) => setData({ series, outbox, stats, stuck }))
      .catch((e) => setError(e.message));
  useEffect(() => {
    load();
  }, []);
  if (error) return html`<p role="alert" class="error">${error}</p>`;
  if (!data) return html`<p aria-busy="true">Loading…</p>`;
  const { series, outbox, stats, stuck } = data;
  const times = series.points.map((p) => Date.parse(p.at) / 1000);
  const pick = (name) => series.points.map((p) => p[name]);
  return html`
    <div class="tiles">
      <div class="tile"><span class="big" data-testid="outbox-backlog">${outbox.pending}</span> events waiting in the outbox</div>
      <div class="tile"><span class="big">${seconds(outbox.oldestPendingAgeSeconds)}</span> oldest unpublished</div>
      <div class="tile"><span class="big">${bytes(stats.storage.bytesStored)}</span> stored in ${stats.storage.objects} objects</div>
      <div class="tile"><span class="big">${bytes(stats.storage.bytesSavedByDedupe)}</span> saved by dedupe</div>
      <div class="tile"><span class="big">${seconds(stats.processing.timeToReadySeconds.p50)}</span> time to ready p50 (${stats.processing.windowHours} h)</div>
      <div class="tile"><span class="big">${stuck.total}</span> stuck media</div>
    </div>
    <button type="button" onClick=${load}>Refresh</button>
    <div class="charts">
      <${Chart} title="Upload funnel per hour" unit="media" times=${times}
        series=${[['created', pick('created')], ['processing', pick('processing')], ['ready', pick('ready')], ['failed', pick('failed')], ['rejected', pick('rejected')]]} />
      <${Chart} title="Time to ready (s)" unit="seconds" times=${times}
        series=${[['p50', pick('timeToReadyP50')], ['p95', pick('timeToReadyP95')]]} />
    </div>
    <h2>Stuck media</h2>
    ${
      stuck.items.length === 0
        ? html`<p class="muted">None: nothing has been processing for more than ${seconds(stuck.thresholdSeconds)} without a change.</p>`
        : html`<table><caption class="visually-hidden">Stuck media</caption>
            <thead><tr><th scope="col">Media</th><th scope="col">Owner</th><th scope="col">Kind</th><th scope="col">Stuck for</th></tr></thead>
            <tbody>${stuck.items.map(
              (
                m,
              ) => html`<tr><td><button type="button" class="link" onClick=${() => onOpenMedia(m.id)}>${m.id}</button></td>
                <td>${m.ownerId}</td><td>${m.kind}</td><td>${seconds(m.stuckForSeconds)}</td></tr>`,
            )}</tbody></table>`
    }
  `;
}
