import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const palette = ['#1f5fbf', '#2e7d32', '#b3261e', '#8a4b00', '#6a1b9a'];

/** A uPlot line chart sized to its container; `series` are [label, values] over `times` (unix seconds). */
export function Chart({ title, times, series, unit }) {
  const box = useRef(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return undefined;
    const plot = new uPlot(
      {
        title,
        width: Math.max(280, el.clientWidth),
        height: 220,
        scales: { x: { time: true } },
        axes: [{}, { label: unit }],
        series: [
          {},
          ...series.map(([label], i) => ({ label, stroke: palette[i % palette.length], width: 2 })),
        ],
      },
      [times, ...series.map(([, values]) => values)],
      el,
    );
    const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [times, series]);
  return html`<figure class="chart"><div ref=${box} role="img" aria-label=${title}></div></figure>`;
}
