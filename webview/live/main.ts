/**
 * Live training view: one chart per metric, extended as new points arrive (no redraw of what
 * is there), with status, progress and ETA, samples/s, backend, and Cancel.
 */
import { lttbIndexes } from '../../server/core/downsample';
import type { LiveData } from '../../server/protocol/views';
import type { HostToLive, LiveToHost } from '../protocol/messages';
import { Chart, themeCharts } from '../shared/charts';
import { button, el, fmt, formatSeconds } from '../shared/dom';
import { colorAt } from '../shared/theme';
import { vscodeApi } from '../shared/vscodeApi';

/** Points kept per curve before thinning the older part (keeps long runs fluid). */
const MAX_POINTS = 4000;
/** Metrics that are shown as figures rather than curves. */
const NOT_CURVES = /^(epoch|samples_per_s|samples\/s|samples_per_sec|throughput|examples_per_s|images_per_s)$/;

interface State {
  runId?: string;
}

const api = vscodeApi<LiveToHost, State>();
const root = document.getElementById('root') as HTMLElement;
const series = new Map<string, { x: number; y: number | null }[]>();
const charts = new Map<string, Chart>();
let last: LiveData | undefined;
let head: HTMLElement | undefined;
let grid: HTMLElement | undefined;

function layout(): void {
  root.replaceChildren();
  head = el('header', 'live-head');
  grid = el('div', 'live-grid');
  root.append(head, grid);
}

function renderHead(d: LiveData): void {
  if (!head) layout();
  const h = head!;
  h.replaceChildren();
  h.append(el('span', 'live-name', d.run.name), el('span', `badge ${d.run.status}`, d.run.status), el('span', 'muted', d.run.id));
  const stat = (label: string, value: string, id: string) => {
    const s = el('span', 'stat');
    s.id = id;
    s.append(el('span', 'stat-label', label), el('span', 'stat-value', value));
    h.append(s);
    return s;
  };
  if (d.progress) {
    const s = stat(`${d.progress.unit}s`, `${fmt(d.progress.done)} / ${fmt(d.progress.total)}`, 'progress');
    const bar = el('progress');
    bar.max = d.progress.total;
    bar.value = d.progress.done;
    bar.setAttribute('aria-label', `${d.progress.done} of ${d.progress.total} ${d.progress.unit}s`);
    s.append(bar);
  }
  stat('ETA', d.etaS === null ? (d.run.status === 'running' ? '—' : 'done') : formatSeconds(d.etaS), 'eta');
  stat('samples/s', d.samplesPerS === null ? '—' : fmt(Math.round(d.samplesPerS)), 'samples');
  stat('backend', d.backend ?? '—', 'backend');
  stat('elapsed', formatSeconds(d.run.durationS), 'elapsed');
  const cancel = button('Cancel', () => api.postMessage({ type: 'live/cancel', id: d.run.id }), 'btn danger', d.cancellable ? 'Stop this run' : 'Only runs started from this VS Code window can be stopped here');
  cancel.disabled = d.run.status !== 'running' || !d.cancellable;
  h.append(cancel);
}

function append(d: LiveData, reset: boolean): void {
  if (reset) {
    for (const c of charts.values()) c.destroy();
    charts.clear();
    series.clear();
    layout();
  }
  last = d;
  renderHead(d);
  themeCharts();
  let total = 0;
  // Losses first, then the rest by name: the charts people look at most come top-left.
  const ordered = [...d.series].sort((x, y) => Number(!/loss/i.test(x.key)) - Number(!/loss/i.test(y.key)) || x.key.localeCompare(y.key));
  for (const s of ordered) {
    if (NOT_CURVES.test(s.key)) continue;
    let pts = series.get(s.key);
    if (!pts) series.set(s.key, (pts = []));
    for (let i = 0; i < s.steps.length; i++) pts.push({ x: s.steps[i], y: s.values[i] });
    if (pts.length > MAX_POINTS) {
      // Thin everything but the newest quarter with LTTB, so the latest stays at full detail.
      const cut = Math.floor(pts.length * 0.75);
      const old = pts.slice(0, cut);
      const keep = lttbIndexes(old.map((p) => p.x), old.map((p) => p.y), Math.floor(MAX_POINTS / 2));
      pts.splice(0, cut, ...keep.map((k) => old[k]));
    }
    let chart = charts.get(s.key);
    if (!chart) {
      const card = el('section', 'card');
      const headEl = el('header', 'card-head');
      headEl.append(el('h2', 'card-title', s.key));
      const value = el('span', 'muted');
      value.dataset.metric = s.key;
      headEl.append(value);
      const box = el('div', 'chart-box short');
      const canvas = el('canvas');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${s.key} by step`);
      box.append(canvas);
      card.append(headEl, el('div', 'card-body'));
      card.lastElementChild!.append(box);
      grid!.append(card);
      const color = colorAt(charts.size);
      chart = new Chart(canvas, {
        type: 'line',
        data: { datasets: [{ label: s.key, data: pts, borderColor: color, backgroundColor: color, borderWidth: 1.5, pointRadius: 0, spanGaps: true }] },
        options: { parsing: false, normalized: true, responsive: true, maintainAspectRatio: false, scales: { x: { type: 'linear', title: { display: true, text: 'step' } } }, plugins: { legend: { display: false } } },
      });
      charts.set(s.key, chart);
    } else {
      chart.data.datasets[0].data = pts;
      chart.update('none');
    }
    const lastPt = pts[pts.length - 1];
    const label = document.querySelector<HTMLElement>(`[data-metric="${CSS.escape(s.key)}"]`);
    if (label && lastPt) label.textContent = `${fmt(lastPt.y)} @${lastPt.x}`;
  }
  for (const pts of series.values()) total += pts.length;
  if (charts.size === 0 && grid && !grid.querySelector('.empty-text')) grid.append(el('p', 'empty-text muted', d.run.status === 'running' ? 'Waiting for the run to log metrics…' : 'This run logged no metrics.'));
  else grid?.querySelector('.empty-text')?.remove();
  api.postMessage({ type: 'live/rendered', runId: d.run.id, points: total });
}

window.addEventListener('message', (event: MessageEvent<HostToLive>) => {
  const msg = event.data;
  if (msg?.type === 'live/reset' || msg?.type === 'live/append') {
    api.setState({ runId: msg.data.run.id });
    append(msg.data, msg.type === 'live/reset' || msg.data.run.id !== last?.run.id);
  } else if (msg?.type === 'live/error') {
    root.append(el('p', 'error', msg.message));
  }
});

document.body.classList.add('editor');
layout();
grid!.append(el('p', 'empty-text muted', 'Connecting to the run…'));
api.postMessage({ type: 'live/ready' });
