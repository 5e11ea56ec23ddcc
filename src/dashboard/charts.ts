/** Bar charts drawn on the server as inline SVG (no script, no chart library). */
import { html, type SafeHtml } from './html';

export interface Bar {
  label: string;
  value: number;
}

export function barChart(name: string, title: string, bars: Bar[], unit: string): SafeHtml {
  const width = 640;
  const height = 200;
  const left = 48;
  const bottom = 30;
  const top = 10;
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const slot = bars.length ? (width - left) / bars.length : width - left;
  const plot = height - bottom - top;
  const labelEvery = Math.max(1, Math.ceil(bars.length / 5));
  const description = bars.length ? bars.map((bar) => `${bar.label}: ${bar.value} ${unit}`).join('; ') : 'No data yet.';
  return html`<svg
    class="chart"
    data-chart="${name}"
    viewBox="0 0 ${width} ${height}"
    role="img"
    aria-labelledby="${name}-title ${name}-desc"
    xmlns="http://www.w3.org/2000/svg"
  >
    <title id="${name}-title">${title}</title>
    <desc id="${name}-desc">${description}</desc>
    <line class="axis" x1="${left}" y1="${height - bottom}" x2="${width}" y2="${height - bottom}" />
    <text x="0" y="${top + 14}">${max}</text>
    <text x="0" y="${height - bottom}">0</text>
    ${bars.map((bar, index) => {
      const barHeight = (bar.value / max) * plot;
      const x = left + index * slot + slot * 0.1;
      return html`<rect
          class="bar"
          x="${x.toFixed(1)}"
          y="${(height - bottom - barHeight).toFixed(1)}"
          width="${(slot * 0.8).toFixed(1)}"
          height="${barHeight.toFixed(1)}"
          ><title>${bar.label}: ${bar.value} ${unit}</title></rect
        >${index % labelEvery === 0 ? html`<text x="${x.toFixed(1)}" y="${height - 8}">${bar.label}</text>` : ''}`;
    })}
    ${bars.length ? '' : html`<text x="${left + 10}" y="${height / 2}">No data yet</text>`}
  </svg>`;
}
