/**
 * Confusion-matrix view: heatmap of one epoch's matrix (counts or row-normalized), an epoch
 * slider, per-class precision/recall/F1 bars, a run-vs-run delta (green where the run does
 * better than the other, red where worse) and, on a click on a cell, the misclassified
 * examples of that cell with their thumbnails.
 */
import type { ConfusionToHost, EvaluationDto, HostToConfusion } from '../protocol/messages';
import type { EvaluatedRun, EvaluationEpoch, MisclassifiedExample } from '../../server/protocol/views';
import { Chart, themeCharts } from '../shared/charts';
import { button, el, fmt, pngOnThemeBackground, section, select, toCsv } from '../shared/dom';
import { palette, withAlpha } from '../shared/theme';
import { vscodeApi } from '../shared/vscodeApi';

type Mode = 'counts' | 'normalized';

interface Ui {
  epochIndex: number | null;
  mode: Mode;
  againstId: string | null;
  selected: [number, number] | null;
}

interface State {
  runId?: string;
  evaluation?: EvaluationDto | null;
  error?: string;
  others: EvaluatedRun[];
  against?: EvaluationDto | null;
  ui: Ui;
}

const api = vscodeApi<ConfusionToHost, State>();
const root = document.getElementById('root') as HTMLElement;
const DEFAULT_UI: Ui = { epochIndex: null, mode: 'counts', againstId: null, selected: null };
const state: State = { others: [], ...(api.getState() ?? {}), ui: { ...DEFAULT_UI, ...(api.getState()?.ui ?? {}) } };
let bars: Chart | undefined;
let againstError: string | undefined;
/** The cell to give focus back to after a redraw (a picked cell keeps the keyboard's place). */
let refocus: [number, number] | null = null;

function save(): void {
  api.setState(state);
}

function setUi(patch: Partial<Ui>): void {
  state.ui = { ...state.ui, ...patch };
  save();
  render();
}

/** Row-normalised copy (each row sums to 1; empty rows stay 0). */
export function normalize(m: readonly (readonly number[])[]): number[][] {
  return m.map((row) => {
    const s = row.reduce((a, b) => a + b, 0);
    return row.map((v) => (s > 0 ? v / s : 0));
  });
}

function epochOf(ev: EvaluationDto, index: number | null): EvaluationEpoch {
  const i = index === null ? ev.epochs.length - 1 : Math.max(0, Math.min(ev.epochs.length - 1, index));
  return ev.epochs[i];
}

/** The other run's epoch with the same number, else its last. */
function matchingEpoch(other: EvaluationDto, epoch: number): EvaluationEpoch {
  return other.epochs.find((e) => e.epoch === epoch) ?? other.epochs[other.epochs.length - 1];
}

function examplesOf(ev: EvaluationDto, epoch: EvaluationEpoch, actual: number, predicted: number): MisclassifiedExample[] {
  const last = ev.epochs[ev.epochs.length - 1].epoch;
  return ev.examples.filter((x) => x.actual === actual && x.predicted === predicted && (x.epoch === null ? epoch.epoch === last : x.epoch === epoch.epoch));
}

function render(): void {
  bars?.destroy();
  bars = undefined;
  root.replaceChildren();
  const ev = state.evaluation;
  if (!ev) {
    const box = el('section', 'empty');
    box.append(el('h2', 'empty-title', 'Confusion matrix'));
    box.append(el('p', state.error ? 'empty-text error' : 'empty-text', state.error ?? 'Loading the evaluation…'));
    root.append(box);
    return;
  }
  const ui = state.ui;
  const epIndex = ui.epochIndex === null ? ev.epochs.length - 1 : Math.min(ui.epochIndex, ev.epochs.length - 1);
  const epoch = epochOf(ev, epIndex);
  const against = state.against && state.against.labels.join('\u0000') === ev.labels.join('\u0000') ? state.against : null;
  const other = against ? matchingEpoch(against, epoch.epoch) : null;
  const n = ev.labels.length;

  const head = el('header', 'live-head');
  head.append(el('span', 'live-name', ev.runName), el('span', 'muted', `${ev.runId} · ${ev.source}`));
  const acc = el('span', 'stat');
  acc.append(el('span', 'stat-label', 'accuracy'), el('span', 'stat-value', `${epoch.accuracy === null ? '—' : (epoch.accuracy * 100).toFixed(2) + '%'}${other && other.accuracy !== null && epoch.accuracy !== null ? ` (${signed((epoch.accuracy - other.accuracy) * 100, 2)} pp vs ${against!.runName})` : ''}`));
  head.append(acc);
  root.append(head);
  if (ev.warnings.length) {
    const ul = el('ul', 'warnings');
    for (const w of ev.warnings) ul.append(el('li', undefined, w));
    root.append(ul);
  }

  // Controls: epoch slider, mode, comparison run.
  const controls = el('div', 'controls');
  const sl = el('label', 'ctl');
  sl.append(el('span', 'ctl-label', 'Epoch'));
  const range = el('input');
  range.type = 'range';
  range.id = 'epoch';
  range.min = '0';
  range.max = String(ev.epochs.length - 1);
  range.step = '1';
  range.value = String(epIndex);
  range.disabled = ev.epochs.length < 2;
  range.setAttribute('aria-label', 'Epoch');
  range.setAttribute('aria-valuetext', `epoch ${epoch.epoch}`);
  range.addEventListener('input', () => setUi({ epochIndex: Number(range.value), selected: ui.selected }));
  sl.append(range, el('output', 'ctl-value', `${epoch.epoch} (${epIndex + 1}/${ev.epochs.length})`));
  controls.append(sl);
  controls.append(
    select('Show', [{ value: 'counts', label: 'counts' }, { value: 'normalized', label: 'row-normalized' }], ui.mode, (v) => setUi({ mode: v as Mode })),
    select('Delta against', [{ value: '', label: 'none' }, ...state.others.map((o) => ({ value: o.id, label: `${o.name} (${o.id})` }))], ui.againstId ?? '', (v) => {
      setUi({ againstId: v || null });
      state.against = null;
      againstError = undefined;
      api.postMessage({ type: 'confusion/against', id: v || null });
    }),
  );
  root.append(controls);
  if (againstError) root.append(el('p', 'error', againstError));
  else if (state.against && !against) root.append(el('p', 'error', `${state.against.runName} has other classes (${state.against.labels.length}); no delta.`));

  // Heatmap.
  const wrap = el('div', 'cm-wrap');
  const title = against ? `Delta vs ${against.runName} (row-normalized, epoch ${epoch.epoch} vs ${other!.epoch})` : `Epoch ${epoch.epoch} · ${ui.mode === 'counts' ? 'counts' : 'row-normalized'}`;
  const csvRows: (string | number)[][] = [['actual \\ predicted', ...ev.labels]];
  const { root: card, body } = section(title, 'matrix', [button('CSV', () => api.postMessage({ type: 'confusion/exportCsv', name: `confusion-${ev.runId}-epoch${epoch.epoch}.csv`, csv: toCsv(csvRows) }), 'btn small', 'Export this matrix as CSV')]);
  const table = el('table', 'cm');
  table.setAttribute('aria-label', title);
  const thead = table.createTHead();
  const h1 = thead.insertRow();
  h1.append(el('th'), el('th', 'axis', 'predicted →'));
  h1.cells[1].colSpan = n;
  const h2 = thead.insertRow();
  h2.append(el('th', 'axis', 'actual ↓'));
  for (const l of ev.labels) h2.append(el('th', undefined, l));
  const tbody = table.createTBody();
  const norm = normalize(epoch.matrix);
  const otherNorm = other ? normalize(other.matrix) : null;
  const values = epoch.matrix.map((row, i) => row.map((c, j) => (otherNorm ? norm[i][j] - otherNorm[i][j] : ui.mode === 'counts' ? c : norm[i][j])));
  const maxAbs = Math.max(1e-12, ...values.flat().map(Math.abs));
  const [blue, , green, red] = palette();
  values.forEach((row, i) => {
    const tr = tbody.insertRow();
    tr.append(el('th', undefined, ev.labels[i]));
    const csvRow: (string | number)[] = [ev.labels[i]];
    row.forEach((v, j) => {
      const td = el('td', `cell${i === j ? ' diag' : ''}`);
      // One tab stop for the whole matrix (the selected cell, else the first); arrows move inside.
      td.tabIndex = (ui.selected ? ui.selected[0] === i && ui.selected[1] === j : i === 0 && j === 0) ? 0 : -1;
      td.dataset.row = String(i);
      td.dataset.col = String(j);
      td.dataset.value = String(v);
      let alpha: number;
      let color: string;
      if (otherNorm) {
        // Better = more on the diagonal, less off it.
        const better = i === j ? v > 0 : v < 0;
        color = v === 0 ? blue : better ? green : red;
        alpha = v === 0 ? 0 : 0.12 + 0.88 * Math.sqrt(Math.abs(v) / maxAbs);
        td.textContent = v === 0 ? '0' : signed(v * 100, 1);
        td.title = `${ev.labels[i]} → ${ev.labels[j]}: ${signed(v * 100, 2)} pp (${(norm[i][j] * 100).toFixed(1)}% vs ${(otherNorm[i][j] * 100).toFixed(1)}%)`;
        td.dataset.better = v === 0 ? 'same' : better ? 'better' : 'worse';
        csvRow.push(Number(v.toFixed(6)));
      } else {
        color = blue;
        alpha = v <= 0 ? 0 : 0.08 + 0.92 * Math.sqrt(v / maxAbs);
        td.textContent = ui.mode === 'counts' || v === 0 ? String(v) : `${(v * 100).toFixed(1)}`;
        td.title = `actual ${ev.labels[i]}, predicted ${ev.labels[j]}: ${epoch.matrix[i][j]} (${(norm[i][j] * 100).toFixed(1)}% of ${ev.labels[i]})`;
        csvRow.push(ui.mode === 'counts' ? v : Number(v.toFixed(6)));
      }
      td.style.backgroundColor = withAlpha(color, alpha);
      if (alpha > 0.6) td.classList.add('dark');
      if (ui.selected && ui.selected[0] === i && ui.selected[1] === j) td.classList.add('selected');
      const pick = () => {
        refocus = [i, j];
        setUi({ selected: [i, j] });
      };
      td.addEventListener('click', pick);
      td.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          pick();
          return;
        }
        // Arrow keys move between cells, so the matrix is one tab stop plus arrows.
        const move: Record<string, [number, number]> = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
        const d = move[e.key];
        if (!d) return;
        e.preventDefault();
        const next = table.querySelector<HTMLElement>(`td.cell[data-row="${Math.max(0, Math.min(n - 1, i + d[0]))}"][data-col="${Math.max(0, Math.min(n - 1, j + d[1]))}"]`);
        next?.focus();
      });
      tr.append(td);
    });
    csvRows.push(csvRow);
  });
  body.append(table);
  const legend = el('div', 'legend-bar');
  legend.append(el('span', undefined, otherNorm ? 'worse' : '0'), el('span', `ramp ${otherNorm ? 'delta' : 'counts'}`), el('span', undefined, otherNorm ? 'better' : ui.mode === 'counts' ? String(maxAbs) : `${(maxAbs * 100).toFixed(1)}%`));
  body.append(legend);
  wrap.append(card);

  // Per-class precision / recall / F1.
  const canvas = el('canvas');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Per-class precision, recall and F1 at epoch ${epoch.epoch}`);
  const barsCard = section('Per-class precision · recall · F1', 'bars', [button('PNG', () => exportPng(canvas, `per-class-${ev.runId}.png`), 'btn small', 'Export as PNG')]);
  const box = el('div', 'chart-box');
  box.append(canvas);
  barsCard.body.append(box);
  barsCard.root.classList.add('grow');
  wrap.append(barsCard.root);
  root.append(wrap);
  themeCharts();
  const p = palette();
  const datasets = [
    { label: 'precision', data: epoch.perClass.map((c) => c.precision ?? 0), backgroundColor: p[0] },
    { label: 'recall', data: epoch.perClass.map((c) => c.recall ?? 0), backgroundColor: p[1] },
    { label: 'F1', data: epoch.perClass.map((c) => c.f1 ?? 0), backgroundColor: p[2] },
  ];
  if (other) datasets.push({ label: `F1 · ${against!.runName}`, data: other.perClass.map((c) => c.f1 ?? 0), backgroundColor: withAlpha(p[4], 0.6) });
  bars = new Chart(canvas, {
    type: 'bar',
    data: { labels: ev.labels, datasets },
    options: { responsive: true, maintainAspectRatio: false, scales: { y: { min: 0, max: 1 } }, plugins: { tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.parsed.y)}` } } } },
  });

  // Misclassified examples of the selected cell.
  if (ui.selected) {
    const [i, j] = ui.selected;
    const xs = i < n && j < n ? examplesOf(ev, epoch, i, j) : [];
    const ex = section(`Actual ${ev.labels[i]}, predicted ${ev.labels[j]} · ${epoch.matrix[i]?.[j] ?? 0} at epoch ${epoch.epoch}`, 'examples');
    if (i === j) ex.body.append(el('p', 'muted', 'Correct predictions: pick a cell off the diagonal to see misclassified examples.'));
    else if (xs.length === 0) ex.body.append(el('p', 'muted', ev.examples.length ? 'No misclassified examples recorded for this cell at this epoch.' : 'This run recorded no misclassified examples (evaluation.json "misclassified").'));
    else {
      const grid = el('div', 'examples');
      for (const x of xs.slice(0, 200)) grid.append(example(x));
      ex.body.append(grid);
      if (xs.length > 200) ex.body.append(el('p', 'muted small', `${xs.length - 200} more not shown.`));
    }
    root.append(ex.root);
  }
  if (refocus) {
    table.querySelector<HTMLElement>(`td.cell[data-row="${refocus[0]}"][data-col="${refocus[1]}"]`)?.focus();
    refocus = null;
  }
  api.postMessage({ type: 'confusion/rendered', runId: ev.runId, epoch: epoch.epoch, mode: against ? 'delta' : ui.mode });
}

function example(x: MisclassifiedExample): HTMLElement {
  const fig = el('figure', 'example');
  const t = x.thumbnail;
  if (t && 'png' in t) {
    const img = el('img');
    img.alt = `example ${x.index}`;
    img.src = `data:image/png;base64,${t.png}`;
    fig.append(img);
  } else if (t) {
    const c = el('canvas');
    c.width = t.width;
    c.height = t.height;
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(t.width, t.height);
    for (let p = 0; p < t.width * t.height; p++) {
      const [r, g, b] = t.channels === 1 ? [t.pixels[p], t.pixels[p], t.pixels[p]] : [t.pixels[p * 3], t.pixels[p * 3 + 1], t.pixels[p * 3 + 2]];
      img.data[p * 4] = r;
      img.data[p * 4 + 1] = g;
      img.data[p * 4 + 2] = b;
      img.data[p * 4 + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    c.setAttribute('role', 'img');
    c.setAttribute('aria-label', `example ${x.index}`);
    fig.append(c);
  }
  fig.append(el('figcaption', undefined, `#${x.index}${x.confidence !== null ? ` · ${(x.confidence * 100).toFixed(0)}%` : ''}`));
  return fig;
}

function signed(v: number, digits: number): string {
  return `${v > 0 ? '+' : ''}${v.toFixed(digits)}`;
}

function exportPng(canvas: HTMLCanvasElement, name: string): void {
  api.postMessage({ type: 'confusion/exportPng', name, dataUrl: pngOnThemeBackground(canvas) });
}

window.addEventListener('message', (event: MessageEvent<HostToConfusion>) => {
  const msg = event.data;
  if (msg?.type === 'confusion/show') {
    const sameRun = state.runId === msg.evaluation?.runId;
    state.evaluation = msg.evaluation;
    state.error = msg.error;
    state.others = msg.others;
    state.runId = msg.evaluation?.runId ?? state.runId;
    if (!sameRun) state.ui = { ...DEFAULT_UI };
    save();
    render();
    // After a reload the comparison run is asked for again.
    if (state.ui.againstId && !state.against) api.postMessage({ type: 'confusion/against', id: state.ui.againstId });
  } else if (msg?.type === 'confusion/against') {
    state.against = msg.evaluation;
    againstError = msg.error;
    save();
    render();
  }
});

document.body.classList.add('editor');
render();
api.postMessage({ type: 'confusion/ready' });
