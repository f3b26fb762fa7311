/**
 * Compare view: parameters (differences highlighted), metrics (last/best/min/max in each
 * metric's direction), data and environment differences, overlaid curves (step or wall time,
 * smoothing, LTTB downsampling, grouping by a parameter with mean and min–max band), a
 * parameter-vs-metric scatter and parallel coordinates. Renders what the host sends; keeps the
 * last data and the controls' settings with setState so it comes back as it was.
 */
import type { ChartDataset } from 'chart.js';
import { lttbIndexes, smooth } from '../../server/core/downsample';
import type { CompareData, CompareOptions, CompareRun, CompareToHost, HostToCompare } from '../protocol/messages';
import { Chart, themeCharts } from '../shared/charts';
import { button, checkbox, el, fmt, pngOnThemeBackground, section, select, toCsv } from '../shared/dom';
import { colorAt, foreground, gridColor, muted, withAlpha } from '../shared/theme';
import { vscodeApi } from '../shared/vscodeApi';

type Show = Extract<HostToCompare, { type: 'compare/show' }>;

interface Ui {
  hideIdentical: boolean;
  metric: string | null;
  xAxis: 'step' | 'wall';
  smoothing: number;
  groupBy: string;
  downsample: boolean;
  scatterX: string | null;
  scatterY: string | null;
}

interface State {
  last?: Show;
  ui: Ui;
  /** For the editor tab's serializer: which runs to show after a reload. */
  ids: string[];
}

const api = vscodeApi<CompareToHost, State>();
const root = document.getElementById('root') as HTMLElement;
const DEFAULT_UI: Ui = { hideIdentical: false, metric: null, xAxis: 'step', smoothing: 0, groupBy: '', downsample: true, scatterX: null, scatterY: null };
let state: State = { ui: { ...DEFAULT_UI }, ids: [], ...(api.getState() ?? {}) };
state.ui = { ...DEFAULT_UI, ...state.ui };
const charts: Chart[] = [];

/** Above this many points the data is not kept in the saved state (VS Code serialises it on every save); the host sends it again after a reload. */
const STATE_MAX_POINTS = 50_000;

function save(): void {
  const data = state.last?.data;
  const points = data?.runs.reduce((a, r) => a + r.series.reduce((b, x) => b + x.steps.length, 0), 0) ?? 0;
  if (!data || points > STATE_MAX_POINTS) {
    api.setState(data ? { ...state, last: { ...state.last!, data: null } } : state);
    return;
  }
  // Curves arrive as Float64Arrays (cheap to post); the saved state is JSON, so plain arrays.
  const plain = (a: ArrayLike<number | null>) => Array.from(a, (v) => (v === null || Number.isNaN(v) ? null : v));
  const runs = data.runs.map((r) => ({ ...r, series: r.series.map((x) => ({ ...x, steps: plain(x.steps) as number[], values: plain(x.values), wallTimes: plain(x.wallTimes) as number[] })) }));
  api.setState({ ...state, last: { ...state.last!, data: { ...data, runs } } });
}

function setUi(patch: Partial<Ui>, redraw: 'all' | 'tables' | 'curves' | 'scatter' = 'all'): void {
  state.ui = { ...state.ui, ...patch };
  save();
  if (!state.last) return;
  if (redraw === 'all') render(state.last);
  else if (redraw === 'tables') renderTables(state.last.data!);
  else if (redraw === 'curves') renderCurves(state.last.data!, state.last.options);
  else renderScatter(state.last.data!);
}

// ---- pure helpers ------------------------------------------------------------------------------

function paramKeys(runs: readonly CompareRun[]): string[] {
  return [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
}

function differs(values: readonly (string | null | undefined)[]): boolean {
  return new Set(values.map((v) => v ?? '\u0000missing')).size > 1;
}

function metricKeys(runs: readonly CompareRun[]): string[] {
  return [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
}

function numeric(values: readonly (string | undefined)[]): boolean {
  return values.every((v) => v === undefined || (v.trim() !== '' && Number.isFinite(Number(v))));
}

/** Value of a sorted (xs, ys) curve at x by linear interpolation; null outside its range. */
function interpolate(xs: readonly number[], ys: readonly (number | null)[], x: number): number | null {
  if (xs.length === 0 || x < xs[0] || x > xs[xs.length - 1]) return null;
  let lo = 0;
  let hi = xs.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= x) lo = mid;
    else hi = mid;
  }
  const a = ys[lo];
  const b = ys[hi];
  if (a === null || b === null) return a ?? b;
  if (xs[hi] === xs[lo]) return a;
  return a + ((b - a) * (x - xs[lo])) / (xs[hi] - xs[lo]);
}

// ---- rendering -----------------------------------------------------------------------------------

function destroyCharts(): void {
  while (charts.length) charts.pop()!.destroy();
}

function render(msg: Show | undefined): void {
  destroyCharts();
  root.replaceChildren();
  if (msg && !msg.data && !msg.error && msg.ids.length) {
    root.append(el('p', 'muted', `Loading the comparison of ${msg.ids.length} runs…`));
    return;
  }
  if (!msg || !msg.data || msg.data.runs.length === 0) {
    const box = el('section', 'empty');
    box.append(el('h2', 'empty-title', 'Compare runs'));
    const text = msg?.error
      ? msg.error
      : msg && msg.storeRunCount === 0
        ? 'No runs recorded in this workspace yet.'
        : 'Select two or more runs in the Runs view (Ctrl/Cmd+click) and choose Compare Runs to see their parameters, metrics and curves side by side.';
    box.append(el('p', msg?.error ? 'empty-text error' : 'empty-text', text));
    box.append(button('Show Runs', () => api.postMessage({ type: 'compare/openRunsView' }), 'link'));
    root.append(box);
    return;
  }
  const t0 = performance.now();
  const data = msg.data;
  root.append(header(data, msg.options));
  for (const id of ['params', 'metrics', 'context', 'curves', 'scatter', 'parallel']) {
    const holder = el('div', 'holder');
    holder.id = `holder-${id}`;
    root.append(holder);
  }
  renderTables(data);
  const points = renderCurves(data, msg.options);
  renderScatter(data);
  renderParallel(data);
  api.postMessage({ type: 'compare/rendered', runIds: data.runs.map((r) => r.id), charts: charts.length, points, ms: performance.now() - t0 });
}

function header(data: CompareData, options: CompareOptions): HTMLElement {
  const head = el('header', 'compare-head');
  const legend = el('ul', 'legend');
  legend.setAttribute('aria-label', 'Compared runs');
  data.runs.forEach((r, i) => {
    const li = el('li', `legend-item status-${r.status}`);
    const sw = el('span', 'swatch');
    sw.style.backgroundColor = colorAt(i);
    const b = button(`${r.name}`, () => api.postMessage({ type: 'compare/showRun', id: r.id }), 'legend-run', `Show run ${r.id} (${r.status})`);
    li.append(sw, b, el('span', 'legend-id', `${r.id}${r.status === 'running' ? ' · running' : ''}`));
    legend.append(li);
  });
  head.append(legend);
  const actions = el('div', 'head-actions');
  if (options.where === 'view') actions.append(button('Open in editor', () => api.postMessage({ type: 'compare/openInEditor' }), 'btn', 'Open this comparison in an editor tab'));
  if (data.runs.length === 2) {
    const diff = button('Diff code', () => api.postMessage({ type: 'compare/diffCode', a: data.runs[0].id, b: data.runs[1].id }), 'btn', options.canDiffCode ? 'Diff the code of the two runs' : 'Code diff is not available in this version');
    diff.disabled = !options.canDiffCode;
    actions.append(diff);
  }
  head.append(actions);
  return head;
}

function holder(id: string): HTMLElement {
  const h = document.getElementById(`holder-${id}`) as HTMLElement;
  h.replaceChildren();
  return h;
}

function renderTables(data: CompareData): void {
  renderParams(data);
  renderMetrics(data);
  renderContext(data);
}

function renderParams(data: CompareData): void {
  const runs = data.runs;
  const keys = paramKeys(runs);
  const rows = keys.map((k) => ({ key: k, values: runs.map((r) => r.params[k]), differs: differs(runs.map((r) => r.params[k])) }));
  const nDiff = rows.filter((r) => r.differs).length;
  const csv = () => toCsv([['parameter', ...runs.map((r) => `${r.name} (${r.id})`)], ...rows.map((r) => [r.key, ...r.values.map((v) => v ?? '')])]);
  const { root: card, body } = section(`Parameters · ${nDiff} of ${keys.length} differ`, 'params', [
    checkbox('Hide identical', state.ui.hideIdentical, (v) => setUi({ hideIdentical: v }, 'tables')),
    button('CSV', () => api.postMessage({ type: 'compare/exportCsv', name: 'parameters.csv', csv: csv() }), 'btn small', 'Export the parameters as CSV'),
  ]);
  if (keys.length === 0) body.append(el('p', 'muted', 'No parameters recorded.'));
  else {
    const table = runTable(runs, 'Parameter');
    for (const r of rows) {
      if (state.ui.hideIdentical && !r.differs) continue;
      const tr = el('tr', r.differs ? 'differs' : 'same');
      tr.append(el('th', 'row-key', r.key));
      for (const v of r.values) tr.append(el('td', r.differs ? 'diff-cell' : undefined, v ?? '—'));
      table.tBodies[0].append(tr);
    }
    if (state.ui.hideIdentical && nDiff < keys.length) body.append(el('p', 'muted small', `${keys.length - nDiff} identical parameter(s) hidden.`));
    body.append(scroller(table));
  }
  holder('params').append(card);
}

function runTable(runs: readonly CompareRun[], first: string): HTMLTableElement {
  const table = el('table', 'grid');
  const thead = table.createTHead();
  const tr = thead.insertRow();
  tr.append(el('th', undefined, first));
  runs.forEach((r, i) => {
    const th = el('th', 'run-col');
    const sw = el('span', 'swatch');
    sw.style.backgroundColor = colorAt(i);
    th.append(sw, document.createTextNode(r.name));
    th.title = r.id;
    tr.append(th);
  });
  table.createTBody();
  return table;
}

function scroller(child: HTMLElement): HTMLElement {
  const s = el('div', 'scroll');
  s.append(child);
  return s;
}

function renderMetrics(data: CompareData): void {
  const runs = data.runs;
  const keys = metricKeys(runs);
  const csvRows: (string | number | null)[][] = [['metric', 'direction', ...runs.flatMap((r) => [`${r.name} last`, `${r.name} best`, `${r.name} min`, `${r.name} max`])]];
  const { root: card, body } = section('Metrics', 'metrics', [
    button('CSV', () => api.postMessage({ type: 'compare/exportCsv', name: 'metrics.csv', csv: toCsv(csvRows) }), 'btn small', 'Export the metrics as CSV'),
  ]);
  if (keys.length === 0) body.append(el('p', 'muted', 'No metrics recorded.'));
  else {
    const table = runTable(runs, 'Metric');
    for (const key of keys) {
      const dir = data.directions[key] ?? 'max';
      const ms = runs.map((r) => r.metrics.find((m) => m.key === key));
      const bests = ms.map((m) => m?.best ?? null).filter((v): v is number => v !== null);
      const winner = bests.length > 1 ? (dir === 'min' ? Math.min(...bests) : Math.max(...bests)) : null;
      const tr = el('tr');
      const th = el('th', 'row-key', key);
      th.append(el('span', 'dir', dir === 'min' ? ' ↓' : ' ↑'));
      th.title = dir === 'min' ? 'lower is better' : 'higher is better';
      tr.append(th);
      for (const m of ms) {
        const td = el('td', m && winner !== null && m.best === winner ? 'best' : undefined);
        if (!m) td.textContent = '—';
        else {
          td.append(el('div', 'm-last', fmt(m.last)));
          td.append(el('div', 'm-sub', `best ${fmt(m.best)}${m.bestStep !== null ? ` @${m.bestStep}` : ''}`));
          td.append(el('div', 'm-sub', `min ${fmt(m.min)} · max ${fmt(m.max)}`));
        }
        tr.append(td);
      }
      table.tBodies[0].append(tr);
      csvRows.push([key, dir, ...ms.flatMap((m) => (m ? [m.last, m.best, m.min, m.max] : [null, null, null, null]))]);
    }
    body.append(scroller(table));
  }
  holder('metrics').append(card);
}

function renderContext(data: CompareData): void {
  const runs = data.runs;
  const short = (h: string | null | undefined) => (h ? h.slice(0, 10) : h === null ? 'unreadable' : '—');
  const paths = [...new Set(runs.flatMap((r) => r.inputs.map((i) => i.path)))].sort();
  const inputRows = paths.map((p) => {
    const hashes = runs.map((r) => r.inputs.find((i) => i.path === p)?.sha256 ?? undefined);
    return { path: p, hashes, differs: differs(hashes.map((h) => h ?? undefined)) };
  });
  const changed = inputRows.filter((r) => r.differs);
  const envKeys: { label: string; get: (r: CompareRun) => string | undefined }[] = [
    { label: 'python', get: (r) => r.environment?.python ?? undefined },
    { label: 'os', get: (r) => r.environment?.os ?? undefined },
    { label: 'gpu', get: (r) => r.environment?.gpu ?? undefined },
    { label: 'git', get: (r) => r.environment?.git ?? undefined },
  ];
  const pkgs = [...new Set(runs.flatMap((r) => Object.keys(r.environment?.packages ?? {})))].sort();
  for (const p of pkgs) envKeys.push({ label: `pkg ${p}`, get: (r) => r.environment?.packages[p] });
  const envRows = envKeys.map((k) => ({ label: k.label, values: runs.map(k.get) })).filter((r) => differs(r.values));
  const codePaths = [...new Set(runs.flatMap((r) => r.code.filter((c) => c.kind !== 'diff').map((c) => c.path)))].sort();
  const codeRows = codePaths
    .map((p) => ({ path: p, hashes: runs.map((r) => r.code.find((c) => c.path === p)?.sha256) }))
    .filter((r) => differs(r.hashes));
  const title = `Data & environment · ${changed.length} data file${changed.length === 1 ? '' : 's'} changed · ${envRows.length} environment difference${envRows.length === 1 ? '' : 's'}${codeRows.length ? ` · ${codeRows.length} code file${codeRows.length === 1 ? '' : 's'} changed` : ''}`;
  const { root: card, body } = section(title, 'context');
  if (paths.length === 0 && envRows.length === 0 && codeRows.length === 0) body.append(el('p', 'muted', 'No inputs, code or environment differences recorded.'));
  const table = runTable(runs, 'What');
  const add = (label: string, cells: string[], cls: string, title?: string) => {
    const tr = el('tr', cls);
    const th = el('th', 'row-key', label);
    if (title) th.title = title;
    tr.append(th);
    for (const c of cells) tr.append(el('td', cls === 'differs' ? 'diff-cell mono' : 'mono', c));
    table.tBodies[0].append(tr);
  };
  for (const r of changed) add(`data ${r.path}`, r.hashes.map(short), 'differs', 'SHA-256 of the file each run read');
  const same = inputRows.length - changed.length;
  if (same) add(`${same} data file${same === 1 ? '' : 's'} identical`, runs.map(() => '='), 'same');
  for (const r of codeRows) add(`code ${r.path}`, r.hashes.map(short), 'differs');
  for (const r of envRows) add(r.label, r.values.map((v) => v ?? '—'), 'differs');
  if (table.tBodies[0].rows.length) body.append(scroller(table));
  holder('context').append(card);
}

/** Draws the curves; returns the number of points drawn. */
function renderCurves(data: CompareData, options: CompareOptions): number {
  for (let i = charts.length - 1; i >= 0; i--) {
    if ((charts[i].canvas as HTMLCanvasElement).dataset.role === 'curves') charts.splice(i, 1)[0].destroy();
  }
  const h = holder('curves');
  const runs = data.runs;
  const keys = metricKeys(runs);
  if (keys.length === 0) return 0;
  const ui = state.ui;
  const metric = ui.metric && keys.includes(ui.metric) ? ui.metric : (keys.find((k) => /loss/i.test(k)) ?? keys[0]);
  const params = paramKeys(runs).filter((k) => differs(runs.map((r) => r.params[k])));
  const groupBy = params.includes(ui.groupBy) ? ui.groupBy : '';
  const canvas = el('canvas');
  canvas.dataset.role = 'curves';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${metric} by ${ui.xAxis === 'step' ? 'step' : 'wall time'} for ${runs.length} runs`);
  const { root: card, body } = section('Curves', 'curves', [
    button('PNG', () => exportPng(canvas, `${metric}.png`), 'btn small', 'Export the chart as PNG'),
  ]);
  const controls = el('div', 'controls');
  controls.append(
    select('Metric', keys.map((k) => ({ value: k, label: k })), metric, (v) => setUi({ metric: v }, 'curves')),
    select('X', [{ value: 'step', label: 'step' }, { value: 'wall', label: 'wall time (s)' }], ui.xAxis, (v) => setUi({ xAxis: v as Ui['xAxis'] }, 'curves')),
    select('Group by', [{ value: '', label: 'none (each run)' }, ...params.map((p) => ({ value: p, label: p }))], groupBy, (v) => setUi({ groupBy: v }, 'curves')),
  );
  const sm = el('label', 'ctl');
  sm.append(el('span', 'ctl-label', 'Smoothing'));
  const range = el('input');
  range.type = 'range';
  range.min = '0';
  range.max = '0.99';
  range.step = '0.01';
  range.value = String(ui.smoothing);
  range.setAttribute('aria-label', 'Smoothing');
  const out = el('output', 'ctl-value', ui.smoothing.toFixed(2));
  range.addEventListener('input', () => (out.textContent = Number(range.value).toFixed(2)));
  range.addEventListener('change', () => setUi({ smoothing: Number(range.value) }, 'curves'));
  sm.append(range, out);
  controls.append(sm, checkbox(`Downsample (LTTB, ${options.chartPoints || 'all'} pts)`, ui.downsample, (v) => setUi({ downsample: v }, 'curves')));
  body.append(controls);
  const box = el('div', 'chart-box');
  box.append(canvas);
  body.append(box);
  const note = el('p', 'muted small');
  body.append(note);
  h.append(card);

  const limit = ui.downsample ? options.chartPoints : 0;
  let drawn = 0;
  let source = 0;
  const curves = runs.map((r) => {
    const s = r.series.find((x) => x.key === metric);
    if (!s) return null;
    const t0 = s.wallTimes[0] ?? 0;
    const xs = ui.xAxis === 'step' ? s.steps : Array.from(s.wallTimes, (w) => (w - t0) / 1000);
    const ys = smooth(s.values, ui.smoothing);
    source += s.downsampledFrom ?? s.steps.length;
    return { xs, ys };
  });
  const datasets: ChartDataset<'line', { x: number; y: number | null }[]>[] = [];
  const thin = (xs: readonly number[], ys: readonly (number | null)[]) => {
    const keep = limit > 0 && xs.length > limit ? lttbIndexes(xs, ys, limit) : null;
    const n = keep ? keep.length : xs.length;
    const pts = new Array<{ x: number; y: number | null }>(n);
    for (let k = 0; k < n; k++) {
      const i = keep ? keep[k] : k;
      pts[k] = { x: xs[i], y: ys[i] };
    }
    drawn += pts.length;
    return pts;
  };
  if (!groupBy) {
    curves.forEach((c, i) => {
      if (!c) return;
      datasets.push({ label: runs[i].name, data: thin(c.xs, c.ys), borderColor: colorAt(i), backgroundColor: colorAt(i), borderWidth: 1.5, pointRadius: 0, spanGaps: true });
    });
  } else {
    const groups = new Map<string, number[]>();
    runs.forEach((r, i) => {
      if (!curves[i]) return;
      const v = r.params[groupBy] ?? '(none)';
      groups.set(v, [...(groups.get(v) ?? []), i]);
    });
    [...groups.entries()].forEach(([value, members], gi) => {
      const color = colorAt(gi);
      // The grid: the longest member's x values (thinned), every member interpolated onto it.
      const longest = members.reduce((a, b) => (curves[b]!.xs.length > curves[a]!.xs.length ? b : a));
      const base = curves[longest]!;
      const keep = limit > 0 && base.xs.length > limit ? lttbIndexes(base.xs, base.ys, limit) : Array.from({ length: base.xs.length }, (_, i) => i);
      const mean: { x: number; y: number | null }[] = [];
      const lo: { x: number; y: number | null }[] = [];
      const hi: { x: number; y: number | null }[] = [];
      for (const k of keep) {
        const x = base.xs[k];
        const vals = members.map((m) => interpolate(curves[m]!.xs, curves[m]!.ys, x)).filter((v): v is number => v !== null);
        mean.push({ x, y: vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null });
        lo.push({ x, y: vals.length ? Math.min(...vals) : null });
        hi.push({ x, y: vals.length ? Math.max(...vals) : null });
      }
      drawn += mean.length;
      const label = `${groupBy}=${value} (${members.length} run${members.length === 1 ? '' : 's'})`;
      datasets.push({ label: `${label} max`, data: hi, borderColor: 'transparent', backgroundColor: withAlpha(color, 0.18), pointRadius: 0, fill: false, spanGaps: true });
      datasets.push({ label: `${label} min`, data: lo, borderColor: 'transparent', backgroundColor: withAlpha(color, 0.18), pointRadius: 0, fill: '-1', spanGaps: true });
      datasets.push({ label, data: mean, borderColor: color, backgroundColor: color, borderWidth: 2, pointRadius: 0, spanGaps: true });
    });
  }
  note.textContent = `${drawn.toLocaleString()} points drawn of ${source.toLocaleString()} recorded${ui.smoothing > 0 ? ` · smoothing ${ui.smoothing.toFixed(2)}` : ''}${groupBy ? ' · line = mean, band = min–max' : ''}`;
  themeCharts();
  const chart = new Chart(canvas, {
    type: 'line',
    data: { datasets },
    options: {
      parsing: false,
      normalized: true,
      responsive: true,
      maintainAspectRatio: false,
      interaction: { mode: 'nearest', intersect: false },
      scales: {
        x: { type: 'linear', title: { display: true, text: ui.xAxis === 'step' ? 'step' : 'seconds since start' } },
        y: { type: 'linear', title: { display: true, text: metric } },
      },
      plugins: {
        legend: { labels: { filter: (item) => !/ (min|max)$/.test(item.text) } },
        tooltip: { filter: (item) => !/ (min|max)$/.test(item.dataset.label ?? '') },
      },
    },
  });
  charts.push(chart);
  return drawn;
}

function renderScatter(data: CompareData): void {
  for (let i = charts.length - 1; i >= 0; i--) {
    if ((charts[i].canvas as HTMLCanvasElement).dataset.role === 'scatter') charts.splice(i, 1)[0].destroy();
  }
  const h = holder('scatter');
  const runs = data.runs;
  const numericParams = paramKeys(runs).filter((k) => numeric(runs.map((r) => r.params[k])) && runs.some((r) => r.params[k] !== undefined));
  const keys = metricKeys(runs);
  if (numericParams.length === 0 || keys.length === 0) return;
  const x = state.ui.scatterX && numericParams.includes(state.ui.scatterX) ? state.ui.scatterX : (numericParams.find((k) => differs(runs.map((r) => r.params[k]))) ?? numericParams[0]);
  const y = state.ui.scatterY && keys.includes(state.ui.scatterY) ? state.ui.scatterY : (keys.find((k) => /acc/i.test(k)) ?? keys[0]);
  const canvas = el('canvas');
  canvas.dataset.role = 'scatter';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `best ${y} against ${x}`);
  const { root: card, body } = section('Parameter vs metric', 'scatter', [button('PNG', () => exportPng(canvas, `${y}-vs-${x}.png`), 'btn small', 'Export the chart as PNG')]);
  const controls = el('div', 'controls');
  controls.append(
    select('Parameter', numericParams.map((k) => ({ value: k, label: k })), x, (v) => setUi({ scatterX: v }, 'scatter')),
    select('Metric (best)', keys.map((k) => ({ value: k, label: k })), y, (v) => setUi({ scatterY: v }, 'scatter')),
  );
  body.append(controls);
  const box = el('div', 'chart-box short');
  box.append(canvas);
  body.append(box);
  h.append(card);
  themeCharts();
  const datasets = runs
    .map((r, i) => {
      const px = r.params[x];
      const m = r.metrics.find((mm) => mm.key === y);
      if (px === undefined || !m || m.best === null) return null;
      return { label: r.name, data: [{ x: Number(px), y: m.best }], backgroundColor: colorAt(i), borderColor: colorAt(i), pointRadius: 5, pointHoverRadius: 7 };
    })
    .filter((d): d is NonNullable<typeof d> => d !== null);
  charts.push(
    new Chart(canvas, {
      type: 'scatter',
      data: { datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { type: 'linear', title: { display: true, text: x } }, y: { title: { display: true, text: `${y} (best)` } } },
        plugins: { legend: { display: runs.length <= 12 } },
      },
    }),
  );
}

/** Parallel coordinates on a plain canvas: one axis per differing parameter and per metric (best). */
function renderParallel(data: CompareData): void {
  const h = holder('parallel');
  const runs = data.runs;
  const axes: { label: string; values: (string | number | null)[]; flip?: boolean }[] = [];
  for (const k of paramKeys(runs)) {
    const vs = runs.map((r) => r.params[k]);
    if (!differs(vs)) continue;
    axes.push({ label: k, values: numeric(vs) ? vs.map((v) => (v === undefined ? null : Number(v))) : vs.map((v) => v ?? null) });
  }
  // Metric axes point the same way: better is up (lower-is-better metrics are drawn flipped).
  for (const k of metricKeys(runs)) axes.push({ label: `${k} ${data.directions[k] === 'min' ? '↓' : '↑'}`, values: runs.map((r) => r.metrics.find((m) => m.key === k)?.best ?? null), flip: data.directions[k] === 'min' });
  if (axes.length < 2 || runs.length < 2) return;
  const canvas = el('canvas', 'parallel');
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Parallel coordinates over ${axes.map((a) => a.label).join(', ')}`);
  const { root: card, body } = section('Parallel coordinates', 'parallel', [button('PNG', () => exportPng(canvas, 'parallel-coordinates.png'), 'btn small', 'Export as PNG')]);
  const box = el('div', 'chart-box short');
  box.append(canvas);
  body.append(box);
  h.append(card);
  const draw = () => {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(240, box.clientWidth);
    const ht = Math.max(160, box.clientHeight);
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(ht * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${ht}px`;
    const ctx = canvas.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, ht);
    const top = 28;
    const bottom = ht - 20;
    const left = 30;
    const right = w - 30;
    const xAt = (i: number) => left + ((right - left) * i) / (axes.length - 1);
    const scales = axes.map((a) => {
      const nums = a.values.filter((v): v is number => typeof v === 'number');
      if (nums.length === a.values.filter((v) => v !== null).length && nums.length) {
        const mn = Math.min(...nums);
        const mx = Math.max(...nums);
        const f = (v: number) => (mx === mn ? 0.5 : a.flip ? (mx - v) / (mx - mn) : (v - mn) / (mx - mn));
        return { y: (v: string | number | null) => (v === null ? null : bottom - (bottom - top) * f(v as number)), lo: fmt(a.flip ? mx : mn), hi: fmt(a.flip ? mn : mx) };
      }
      const cats = [...new Set(a.values.filter((v) => v !== null).map(String))].sort();
      return { y: (v: string | number | null) => (v === null ? null : cats.length === 1 ? (top + bottom) / 2 : bottom - ((bottom - top) * cats.indexOf(String(v))) / (cats.length - 1)), lo: cats[0] ?? '', hi: cats[cats.length - 1] ?? '' };
    });
    ctx.font = `11px ${getComputedStyle(document.body).fontFamily}`;
    ctx.textAlign = 'center';
    axes.forEach((a, i) => {
      const x = xAt(i);
      ctx.strokeStyle = gridColor();
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
      ctx.fillStyle = foreground();
      ctx.fillText(a.label, x, 12);
      ctx.fillStyle = muted();
      ctx.fillText(scales[i].hi, x, top - 4);
      ctx.fillText(scales[i].lo, x, bottom + 13);
    });
    runs.forEach((_, r) => {
      ctx.strokeStyle = colorAt(r);
      ctx.lineWidth = 2;
      ctx.beginPath();
      let pen = false;
      axes.forEach((a, i) => {
        const y = scales[i].y(a.values[r]);
        if (y === null) {
          pen = false;
          return;
        }
        if (pen) ctx.lineTo(xAt(i), y);
        else ctx.moveTo(xAt(i), y);
        pen = true;
      });
      ctx.stroke();
    });
  };
  draw();
  new ResizeObserver(() => draw()).observe(box);
}

function exportPng(canvas: HTMLCanvasElement, name: string): void {
  api.postMessage({ type: 'compare/exportPng', name, dataUrl: pngOnThemeBackground(canvas) });
}

window.addEventListener('message', (event: MessageEvent<HostToCompare>) => {
  const msg = event.data;
  if (msg?.type === 'compare/show') {
    state.last = msg;
    state.ids = msg.ids;
    save();
    document.body.classList.toggle('editor', msg.options.where === 'editor');
    render(msg);
  } else if (msg?.type === 'compare/update' && state.last) {
    // A running run logged more: redraw where the reader is, not back at the top.
    const y = window.scrollY;
    state.last = { ...state.last, data: msg.data };
    save();
    render(state.last);
    window.scrollTo(0, y);
  }
});

document.body.classList.toggle('editor', state.last?.options.where === 'editor');
render(state.last);
api.postMessage({ type: 'compare/ready' });
