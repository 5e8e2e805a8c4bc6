import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The parts of a Grafana dashboard JSON this page draws. */
export interface Dashboard {
  title: string;
  panels: Panel[];
}

export interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  fieldConfig?: { defaults?: { unit?: string } };
  targets: { refId: string; expr: string; legendFormat?: string }[];
}

/** One series of a Prometheus range query (`/api/v1/query_range`, resultType matrix). */
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}

/** What the page embeds for a panel: one line per series, values aligned on the shared time axis. */
export interface RenderedPanel {
  id: number;
  type: 'stat' | 'timeseries';
  title: string;
  unit: string;
  gridPos: Panel['gridPos'];
  series: { label: string; expr: string; values: (number | null)[] }[];
}

export interface PageData {
  title: string;
  subtitle: string;
  times: number[];
  panels: RenderedPanel[];
}

const drawable = new Set(['stat', 'timeseries']);

/** Grafana's `{{label}}` legend templates, filled from a series' labels. */
export function legendOf(format: string | undefined, metric: Record<string, string>): string {
  if (!format)
    return (
      Object.entries(metric)
        .map(([k, v]) => `${k}="${v}"`)
        .join(', ') || 'value'
    );
  return format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => metric[name] ?? '');
}

/**
 * Lays every panel's query results on one time axis. A panel of a type the page cannot draw is an error,
 * not a gap: the screenshot would otherwise quietly lose it when the dashboard gains one.
 */
export function pageData(
  dashboard: Dashboard,
  results: Map<string, RangeSeries[]>,
  times: number[],
  subtitle: string,
): PageData {
  const index = new Map(times.map((t, i) => [t, i]));
  const panels = dashboard.panels.map((panel): RenderedPanel => {
    if (!drawable.has(panel.type))
      throw new Error(`panel "${panel.title}" is a ${panel.type}, which the page cannot draw`);
    const series = panel.targets.flatMap((target) =>
      (results.get(target.expr) ?? []).map((s) => {
        const values: (number | null)[] = times.map(() => null);
        for (const [t, v] of s.values) {
          const at = index.get(t);
          const n = Number(v);
          if (at !== undefined) values[at] = Number.isFinite(n) ? n : null;
        }
        return { label: legendOf(target.legendFormat, s.metric), expr: target.expr, values };
      }),
    );
    return {
      id: panel.id,
      type: panel.type as RenderedPanel['type'],
      title: panel.title,
      unit: panel.fieldConfig?.defaults?.unit ?? 'short',
      gridPos: panel.gridPos,
      series,
    };
  });
  return { title: dashboard.title, subtitle, times, panels: floatUp(panels) };
}

/** Grafana's layout lets panels float up into empty rows; the page does the same, keeping their order. */
function floatUp(panels: RenderedPanel[]): RenderedPanel[] {
  const placed: Panel['gridPos'][] = [];
  const overlaps = (a: Panel['gridPos'], b: Panel['gridPos']) =>
    a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const byPosition = [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  const moved = new Map<RenderedPanel, Panel['gridPos']>();
  for (const panel of byPosition) {
    const at = { ...panel.gridPos };
    while (at.y > 0 && !placed.some((other) => overlaps({ ...at, y: at.y - 1 }, other))) at.y--;
    placed.push(at);
    moved.set(panel, at);
  }
  return panels.map((panel) => ({ ...panel, gridPos: moved.get(panel) ?? panel.gridPos }));
}

const require = createRequire(import.meta.url);
const uplotFile = (name: string) => readFileSync(require.resolve(`uplot/dist/${name}`), 'utf8');

/** A self-contained page (uPlot inlined, no network) laid out on Grafana's 24-column grid. */
export function dashboardHtml(data: PageData): string {
  // `<` escaped so no value can close the script element it is embedded in.
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(data.title)}</title>
<style>${uplotFile('uPlot.min.css')}${pageCss}</style></head>
<body><header><h1>${escapeHtml(data.title)}</h1><p>${escapeHtml(data.subtitle)}</p></header>
<main id="grid"></main>
<script id="data" type="application/json">${json}</script>
<script>${uplotFile('uPlot.iife.min.js')}</script>
<script>${pageScript}</script>
</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

const rowHeight = 34;

const pageCss = `
body { margin: 0; background: #111217; color: #ccccdc; font: 13px system-ui, sans-serif; }
header { padding: 10px 16px 0; } h1 { font-size: 18px; margin: 0; color: #fff; }
header p { margin: 2px 0 0; color: #8e8e9e; }
#grid { position: relative; margin: 8px; }
.panel { position: absolute; box-sizing: border-box; background: #181b1f; border: 1px solid #2c3235;
  border-radius: 4px; padding: 6px 8px; overflow: hidden; }
.panel h2 { font-size: 13px; font-weight: 500; margin: 0 0 4px; color: #d8d9da; }
.stat { font-size: 34px; font-weight: 500; color: #73bf69; text-align: center; margin-top: 14px; }
.empty { color: #8e8e9e; text-align: center; margin-top: 30px; }
.uplot { font-family: inherit; } .u-legend { font-size: 11px; color: #ccccdc; }
`;

// Runs in the page: formats values by the panel's Grafana unit and draws each panel.
const pageScript = `
const data = JSON.parse(document.getElementById('data').textContent);
const grid = document.getElementById('grid');
const colWidth = (innerWidth - 16) / 24, rowHeight = ${rowHeight};
const colours = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#fade2a'];
function format(unit, v) {
  if (v == null) return '–';
  if (unit === 's') return v < 1 ? (v * 1000).toFixed(0) + ' ms' : v.toFixed(2) + ' s';
  if (unit === 'reqps') return v.toFixed(2) + ' /s';
  return Math.abs(v) >= 100 ? v.toFixed(0) : String(Number(v.toFixed(2)));
}
for (const panel of data.panels) {
  const box = document.createElement('section');
  box.className = 'panel';
  box.dataset.panel = panel.title;
  const g = panel.gridPos;
  Object.assign(box.style, { left: g.x * colWidth + 'px', top: g.y * rowHeight + 'px',
    width: g.w * colWidth - 6 + 'px', height: g.h * rowHeight - 6 + 'px' });
  box.innerHTML = '<h2></h2>';
  box.querySelector('h2').textContent = panel.title;
  grid.append(box);
  grid.style.height = Math.max(parseFloat(grid.style.height || 0), (g.y + g.h) * rowHeight) + 'px';
  if (panel.series.length === 0) {
    box.insertAdjacentHTML('beforeend', '<div class="empty">No data</div>');
    continue;
  }
  if (panel.type === 'stat') {
    const last = panel.series[0].values.filter((v) => v != null).at(-1);
    const stat = document.createElement('div');
    stat.className = 'stat';
    stat.textContent = format(panel.unit, last);
    box.append(stat);
    continue;
  }
  const legendRows = Math.ceil(panel.series.length / 3);
  new uPlot({
    width: g.w * colWidth - 24, height: g.h * rowHeight - 44 - legendRows * 16,
    series: [{}, ...panel.series.map((s, i) => ({ label: s.label, stroke: colours[i % colours.length],
      width: 1.5, spanGaps: true, value: (u, v) => format(panel.unit, v) }))],
    axes: [{ stroke: '#8e8e9e', grid: { stroke: '#2c3235' } },
      { stroke: '#8e8e9e', grid: { stroke: '#2c3235' }, size: 60,
        values: (u, vals) => vals.map((v) => format(panel.unit, v)) }],
    cursor: { show: false }, legend: { live: false },
  }, [data.times, ...panel.series.map((s) => s.values)], box);
}
document.body.dataset.drawn = 'true';
`;
