/**
 * Notebook diff view. Renders what the host sends: cells side by side or inline, unchanged runs
 * folded, changed words marked, outputs by MIME type with images side by side, and toggles for
 * outputs / metadata / execution counts that decide, here, what counts as a change. Keyboard:
 * n / j / Alt+↓ next change, p / k / Alt+↑ previous, i inline ↔ side by side, o outputs.
 */
import type { DiffLine, ImageInfo, ViewCell, ViewNotebookDiff, ViewOutput } from '../../server/protocol/diffDto';
import type { DiffToHost, DiffViewModel, DiffViewState, HostToDiff } from '../protocol/diff';
import { vscodeApi } from '../shared/vscodeApi';

const api = vscodeApi<DiffToHost, DiffViewState>();
const root = document.getElementById('root') as HTMLElement;

let model: DiffViewModel | undefined;
let state: DiffViewState | undefined = api.getState();
/** Elements of the rows that count as changes, in document order (rebuilt on each render). */
let changes: HTMLElement[] = [];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function save(): void {
  if (state) api.setState(state);
}

window.addEventListener('message', (e: MessageEvent<HostToDiff>) => {
  const m = e.data;
  if (m.type === 'diff/show') {
    const same = state && JSON.stringify(state.params) === JSON.stringify(m.params);
    state = same && state ? state : { params: m.params, layout: 'side', outputs: true, metadata: false, execCounts: false, current: -1, expanded: [] };
    model = m.model;
    save();
    render();
  } else if (m.type === 'diff/error') {
    model = undefined;
    root.replaceChildren(el('p', 'diff-error', m.message));
  }
});

// ---- what counts as a change under the current toggles -------------------------------------

function shownOp(c: ViewCell, s: DiffViewState): ViewCell['op'] {
  if (c.op !== 'modified' && c.op !== 'unchanged') return c.op;
  const changed = c.sourceChanged || !!c.typeChanged || (s.outputs && c.outputsChanged) || (s.metadata && c.metadataChanged) || (s.execCounts && c.execCountChanged);
  return changed ? 'modified' : 'unchanged';
}

function summaryOf(d: ViewNotebookDiff, s: DiffViewState): Record<ViewCell['op'], number> {
  const n = { added: 0, removed: 0, modified: 0, moved: 0, unchanged: 0 };
  for (const c of d.cells) n[shownOp(c, s)]++;
  return n;
}

// ---- rendering --------------------------------------------------------------------------------

function render(): void {
  if (!model || !state) return;
  const s = state;
  changes = [];
  const page = el('div', `diff layout-${s.layout}`);
  page.append(header(model, s));
  if (model.runs) page.append(runsSection(model.runs));
  model.notebooks.forEach((nb, k) => page.append(notebookSection(nb, k, s, model!.notebooks.length > 1 || !!model!.runs)));
  for (const f of model.files ?? []) page.append(fileSection(f));
  if (model.notebooks.length === 0 && !(model.files ?? []).length) page.append(el('p', 'muted', 'No code recorded for these runs.'));
  root.replaceChildren(page);
  updateCounter();
  if (s.current >= 0 && changes[s.current]) changes[s.current].classList.add('current');
}

function header(m: DiffViewModel, s: DiffViewState): HTMLElement {
  const h = el('header', 'diff-header');
  const title = el('h1', 'diff-title', m.title);
  const sides = el('div', 'diff-sides');
  sides.append(el('span', 'side-a', m.labels.a), el('span', 'arrow', ' ↔ '), el('span', 'side-b', m.labels.b));
  const bar = el('div', 'toolbar');
  bar.setAttribute('role', 'toolbar');
  const layout = button(s.layout === 'side' ? 'Inline' : 'Side by side', 'Switch layout (i)', () => {
    s.layout = s.layout === 'side' ? 'inline' : 'side';
    save();
    render();
  });
  layout.id = 'layout';
  bar.append(layout, toggle('outputs', 'Outputs', s), toggle('metadata', 'Metadata', s), toggle('execCounts', 'Execution counts', s));
  const prev = button('↑ Previous', 'Previous change (p, k, Alt+↑)', () => go(-1));
  prev.id = 'prev';
  const next = button('↓ Next', 'Next change (n, j, Alt+↓)', () => go(1));
  next.id = 'next';
  const counter = el('span', 'counter');
  counter.id = 'counter';
  counter.setAttribute('aria-live', 'polite');
  bar.append(prev, next, counter);
  if (m.notebooks.length === 1 && !m.runs) {
    const sum = summaryOf(m.notebooks[0].diff, s);
    const chips = el('div', 'summary');
    for (const op of ['modified', 'added', 'removed', 'moved', 'unchanged'] as const) chips.append(el('span', `chip op-${op}`, `${sum[op]} ${op}`));
    h.append(title, sides, chips, bar);
  } else h.append(title, sides, bar);
  return h;
}

function button(text: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = el('button', 'tool', text);
  b.type = 'button';
  b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

function toggle(key: 'outputs' | 'metadata' | 'execCounts', label: string, s: DiffViewState): HTMLElement {
  const l = el('label', 'toggle');
  const box = el('input');
  box.type = 'checkbox';
  box.checked = s[key];
  box.id = `toggle-${key}`;
  box.addEventListener('change', () => {
    s[key] = box.checked;
    s.current = -1;
    save();
    render();
  });
  l.append(box, document.createTextNode(` ${label}`));
  return l;
}

function runsSection(r: NonNullable<DiffViewModel['runs']>): HTMLElement {
  const sec = el('section', 'runs-diff');
  sec.append(el('h2', '', `Parameters — ${r.params.length} differ, ${r.identicalParams} identical`));
  if (r.params.length) sec.append(table(['parameter', r.a.id, r.b.id], r.params.map((p) => [p.key, p.a ?? '(unset)', p.b ?? '(unset)'])));
  if (r.metrics.length) {
    sec.append(el('h2', '', 'Metrics (last values)'));
    sec.append(
      table(
        ['metric', r.a.id, r.b.id, 'change'],
        r.metrics.map((m) => [m.key, num(m.a), num(m.b), m.a !== null && m.b !== null ? signed(m.b - m.a) : '']),
      ),
    );
  }
  return sec;
}

const num = (v: number | null) => (v === null ? '—' : Number.isInteger(v) ? String(v) : v.toPrecision(4).replace(/\.?0+$/, ''));
const signed = (v: number) => (v === 0 ? 'same' : `${v > 0 ? '+' : ''}${num(v)}`);

function table(head: string[], rows: string[][]): HTMLTableElement {
  const t = el('table', 'kv');
  const tr = el('tr');
  for (const h of head) tr.append(el('th', '', h));
  t.append(tr);
  for (const r of rows) {
    const row = el('tr');
    for (const c of r) row.append(el('td', '', c));
    t.append(row);
  }
  return t;
}

function notebookSection(nb: DiffViewModel['notebooks'][number], k: number, s: DiffViewState, titled: boolean): HTMLElement {
  const sec = el('section', 'notebook');
  if (titled) {
    const sum = summaryOf(nb.diff, s);
    const name = nb.pathB && nb.pathB !== nb.path ? `${nb.path} → ${nb.pathB}` : nb.path ?? 'notebook';
    sec.append(el('h2', '', `${name} — ${sum.modified} modified · ${sum.added} added · ${sum.removed} removed · ${sum.moved} moved · ${sum.unchanged} unchanged`));
  }
  for (const w of nb.diff.warnings) sec.append(el('p', 'warning', w));
  if (s.metadata && nb.diff.notebookMetadata.length) {
    const box = el('div', 'meta notebook-meta');
    box.append(el('div', 'meta-title', 'Notebook metadata'));
    for (const m of nb.diff.notebookMetadata) box.append(metaRow(m.key, m.a, m.b));
    sec.append(box);
    changes.push(box);
  }
  const cells = nb.diff.cells;
  let i = 0;
  while (i < cells.length) {
    if (shownOp(cells[i], s) !== 'unchanged') {
      sec.append(cellBlock(cells[i], k, s));
      i++;
      continue;
    }
    let j = i;
    while (j < cells.length && shownOp(cells[j], s) === 'unchanged') j++;
    const key = k * 1_000_000 + i;
    if (s.expanded.includes(key)) {
      for (let x = i; x < j; x++) sec.append(cellBlock(cells[x], k, s));
    } else {
      const fold = button(`⋯ ${j - i} unchanged cell${j - i === 1 ? '' : 's'}`, 'Show these cells', () => {
        s.expanded.push(key);
        save();
        render();
      });
      fold.classList.add('fold');
      sec.append(fold);
    }
    i = j;
  }
  return sec;
}

function cellBlock(c: ViewCell, nbIndex: number, s: DiffViewState): HTMLElement {
  const op = shownOp(c, s);
  const block = el('article', `cell op-${op} type-${c.type}`);
  block.tabIndex = 0;
  const where = c.a !== null && c.b !== null ? (c.a === c.b ? `cell ${c.b + 1}` : `cell ${c.a + 1} → ${c.b + 1}`) : c.b !== null ? `cell ${c.b + 1}` : `cell ${c.a! + 1}`;
  const edited = op === 'moved' && (c.sourceChanged || c.outputsChanged) ? ' and edited' : '';
  block.setAttribute('aria-label', `${where}, ${c.type}, ${op}${edited}`);
  const head = el('div', 'cell-head');
  head.append(el('span', `badge op-${op}`, `${op}${edited}`), el('span', 'where', where), el('span', 'ctype', c.typeChanged ? `${c.typeChanged.a} → ${c.typeChanged.b}` : c.type));
  if (c.type === 'code' && (s.execCounts || c.execCountChanged)) {
    const ec = c.executionCount;
    if (ec && s.execCounts) head.append(el('span', 'exec changed', `[${ec.a ?? ' '}] → [${ec.b ?? ' '}]`));
  }
  const open = (side: 'a' | 'b', index: number | null) => {
    if (index === null || !model || model.runs) return;
    const b = button(side === 'a' ? 'Open left' : 'Open right', `Show this cell in the ${side === 'a' ? 'left' : 'right'} notebook`, () =>
      api.postMessage({ type: 'diff/reveal', side, cell: index, notebook: nbIndex }),
    );
    b.classList.add('reveal');
    head.append(b);
  };
  open('a', c.a);
  open('b', c.b);
  block.append(head, sourceView(c, s));
  if (s.outputs) block.append(...outputsView(c, op));
  if (s.metadata && c.metadataChanged && c.metadata) {
    const box = el('div', 'meta');
    for (const m of c.metadata) box.append(metaRow(m.key, m.a, m.b));
    block.append(box);
  }
  if (op !== 'unchanged') changes.push(block);
  block.addEventListener('focus', () => {
    const idx = changes.indexOf(block);
    if (idx >= 0 && s.current !== idx) setCurrent(idx, false);
  });
  return block;
}

function metaRow(key: string, a: unknown, b: unknown): HTMLElement {
  const row = el('div', 'meta-row');
  const show = (v: unknown) => (v === undefined ? '(none)' : JSON.stringify(v));
  row.append(el('span', 'meta-key', key), el('span', 'meta-a', show(a)), el('span', 'arrow', '→'), el('span', 'meta-b', show(b)));
  return row;
}

function fileSection(f: NonNullable<DiffViewModel['files']>[number]): HTMLElement {
  const sec = el('section', `file op-${f.op}`);
  const name = f.pathB && f.pathB !== f.path ? `${f.path} → ${f.pathB}` : f.path;
  sec.append(el('h2', '', `${f.kind} ${name} — ${f.op}`));
  if (f.problem) sec.append(el('p', 'warning', f.problem));
  if (f.lines && f.op !== 'unchanged') {
    const block = el('article', 'cell op-modified');
    block.tabIndex = 0;
    block.setAttribute('aria-label', `${f.kind} ${name}, ${f.op}`);
    block.append(state?.layout === 'inline' ? inlineLines(f.lines) : sideBySide(f.lines, 'modified'));
    if (f.omitted) block.append(el('div', 'muted', `… ${f.omitted.toLocaleString('en')} more changed lines not shown`));
    sec.append(block);
    changes.push(block);
  }
  return sec;
}

// ---- sources ------------------------------------------------------------------------------------

function sourceView(c: ViewCell, s: DiffViewState): HTMLElement {
  const a = c.sourceA;
  const b = c.sourceB ?? c.sourceA;
  let lines: DiffLine[];
  if (c.lines) lines = c.lines;
  else if (c.op === 'added') lines = splitLines(b ?? '').map((t, i) => ({ op: '+', text: t, b: i + 1 }));
  else if (c.op === 'removed') lines = splitLines(a ?? '').map((t, i) => ({ op: '-', text: t, a: i + 1 }));
  else lines = splitLines(b ?? '').map((t, i) => ({ op: ' ', text: t, a: i + 1, b: i + 1 }));
  return s.layout === 'inline' ? inlineLines(lines) : sideBySide(lines, c.op);
}

function splitLines(t: string): string[] {
  if (!t) return [];
  const l = t.split('\n');
  if (l[l.length - 1] === '') l.pop();
  return l;
}

function lineContent(l: DiffLine): HTMLElement {
  const code = el('span', 'text');
  if (l.words) {
    for (const w of l.words) code.append(w.op === '=' ? document.createTextNode(w.text) : el('span', w.op === '-' ? 'word-del' : 'word-ins', w.text));
  } else code.textContent = l.text || '\u200b';
  return code;
}

function inlineLines(lines: DiffLine[]): HTMLElement {
  const box = el('div', 'code inline');
  let last: DiffLine | undefined;
  for (const l of lines) {
    if (last && gap(last, l)) box.append(el('div', 'gap', '⋯'));
    const row = el('div', `line ${lineClass(l.op)}`);
    row.append(el('span', 'ln', String(l.a ?? '')), el('span', 'ln', String(l.b ?? '')), el('span', 'sign', l.op === ' ' ? ' ' : l.op), lineContent(l));
    box.append(row);
    last = l;
  }
  return box;
}

/** Line numbers jump where unchanged lines of a large text were left out. */
function gap(prev: DiffLine, l: DiffLine): boolean {
  return (prev.a !== undefined && l.a !== undefined && l.a > prev.a + 1) || (prev.b !== undefined && l.b !== undefined && l.b > prev.b + 1);
}

const lineClass = (op: DiffLine['op']) => (op === '-' ? 'del' : op === '+' ? 'ins' : 'ctx');

/** Two columns; each block of removed lines is set against the added lines that replaced it. */
function sideBySide(lines: DiffLine[], op: ViewCell['op']): HTMLElement {
  const box = el('div', 'code side');
  const rows: [DiffLine | null, DiffLine | null][] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i].op === ' ') {
      rows.push([lines[i], lines[i]]);
      i++;
      continue;
    }
    const del: DiffLine[] = [];
    const ins: DiffLine[] = [];
    while (i < lines.length && lines[i].op !== ' ') (lines[i].op === '-' ? del : ins).push(lines[i++]);
    for (let k = 0; k < Math.max(del.length, ins.length); k++) rows.push([del[k] ?? null, ins[k] ?? null]);
  }
  let last: [DiffLine | null, DiffLine | null] | undefined;
  for (const [a, b] of rows) {
    if (last && ((last[0] && a && gap(last[0], a)) || (last[1] && b && gap(last[1], b)))) box.append(el('div', 'gap', '⋯'), el('div', 'gap', '⋯'));
    box.append(half(a, 'a', op), half(b, 'b', op));
    last = [a, b];
  }
  return box;
}

function half(l: DiffLine | null, side: 'a' | 'b', op: ViewCell['op']): HTMLElement {
  if (!l) return el('div', `line empty ${op === 'added' && side === 'a' ? 'none' : ''}`);
  const row = el('div', `line ${lineClass(l.op)}`);
  row.append(el('span', 'ln', String((side === 'a' ? l.a : l.b) ?? '')), lineContent(l));
  return row;
}

// ---- outputs ----------------------------------------------------------------------------------

function outputsView(c: ViewCell, op: ViewCell['op']): HTMLElement[] {
  const out: HTMLElement[] = [];
  if (c.outputsElided) return [el('div', 'muted outputs-note', 'Outputs unchanged (large; not loaded).')];
  if (op === 'added' || op === 'removed') {
    const list = op === 'added' ? c.outputsB : c.outputsA;
    if (list?.length) {
      const box = el('div', `outputs ${op === 'added' ? 'ins' : 'del'}`);
      for (const o of list) box.append(renderOutput(o));
      out.push(box);
    }
    return out;
  }
  if (!c.outputChanges?.length) {
    if (c.outputsB?.length && op !== 'unchanged') out.push(el('div', 'muted outputs-note', `${c.outputsB.length} output${c.outputsB.length === 1 ? '' : 's'} unchanged`));
    else if (op === 'unchanged' && c.outputsB?.length) {
      const box = el('div', 'outputs');
      for (const o of c.outputsB) box.append(renderOutput(o));
      out.push(box);
    }
    return out;
  }
  const box = el('div', 'outputs changed');
  box.append(el('div', 'outputs-title', 'Outputs'));
  for (const ch of c.outputChanges) {
    const item = el('div', `output-change op-${ch.op}`);
    item.append(el('div', 'output-kind', `${ch.kind} ${ch.op}`));
    if (ch.op === 'added' && ch.b !== null && c.outputsB) item.append(renderOutput(c.outputsB[ch.b]));
    else if (ch.op === 'removed' && ch.a !== null && c.outputsA) item.append(renderOutput(c.outputsA[ch.a]));
    else {
      for (const m of ch.mimes ?? []) {
        if (m.image) item.append(imagePair(m.mime, ch, c, m.image));
        else if (m.lines) {
          if (!ch.kind.startsWith('stream') && ch.kind !== 'error') item.append(el('div', 'mime', m.mime));
          item.append(inlineLines(m.lines));
          if (m.omitted) item.append(el('div', 'muted', `… ${m.omitted.toLocaleString('en')} more changed lines not shown`));
        }
      }
    }
    box.append(item);
  }
  out.push(box);
  return out;
}

function imagePair(mime: string, ch: NonNullable<ViewCell['outputChanges']>[number], c: ViewCell, info: { a?: ImageInfo; b?: ImageInfo }): HTMLElement {
  const pair = el('div', 'image-pair');
  const one = (side: 'a' | 'b', i: ImageInfo | undefined, o: ViewOutput | undefined) => {
    const fig = el('figure', `image side-${side}`);
    if (i && o?.data[mime] && !i.problem) {
      const img = el('img');
      img.src = `data:${mime};base64,${o.data[mime].replace(/\s/g, '')}`;
      img.alt = `${side === 'a' ? 'before' : 'after'}: ${describeImage(i)}`;
      fig.append(img);
    } else fig.append(el('div', 'no-image', i?.problem ?? 'no image'));
    fig.append(el('figcaption', '', `${side === 'a' ? 'before' : 'after'} · ${describeImage(i)}`));
    return fig;
  };
  pair.append(one('a', info.a, ch.a !== null ? c.outputsA?.[ch.a] : undefined), one('b', info.b, ch.b !== null ? c.outputsB?.[ch.b] : undefined));
  return pair;
}

function describeImage(i: ImageInfo | undefined): string {
  if (!i) return 'none';
  const px = i.width !== undefined ? `${i.width}×${i.height} px · ` : '';
  return `${px}${i.bytes < 1024 ? `${i.bytes} B` : `${(i.bytes / 1024).toFixed(1)} KB`}${i.problem ? ` · ${i.problem}` : ''}`;
}

function renderOutput(o: ViewOutput): HTMLElement {
  const box = el('div', `output kind-${o.kind.replace(/[^a-z]/g, '-')}`);
  const mimes = Object.keys(o.data);
  const image = mimes.find((m) => m.startsWith('image/') && m !== 'image/svg+xml');
  if (image) {
    const img = el('img');
    img.src = `data:${image};base64,${o.data[image].replace(/\s/g, '')}`;
    img.alt = 'output image';
    box.append(img);
    return box;
  }
  if (o.data['image/svg+xml']) {
    const img = el('img');
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(o.data['image/svg+xml'])}`;
    img.alt = 'output image (SVG)';
    box.append(img);
    return box;
  }
  const text = o.data['text/plain'] ?? o.data['text/markdown'] ?? o.data['text/html'] ?? o.data[mimes[0]] ?? '';
  box.append(el('pre', 'output-text', text));
  return box;
}

// ---- navigation -------------------------------------------------------------------------------

function go(delta: number): void {
  if (!state || changes.length === 0) return;
  const next = state.current < 0 ? (delta > 0 ? 0 : changes.length - 1) : Math.min(changes.length - 1, Math.max(0, state.current + delta));
  setCurrent(next, true);
}

function setCurrent(index: number, focus: boolean): void {
  if (!state) return;
  changes[state.current]?.classList.remove('current');
  state.current = index;
  const target = changes[index];
  target.classList.add('current');
  if (focus) {
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: 'start' });
  }
  save();
  updateCounter();
}

function updateCounter(): void {
  const c = document.getElementById('counter');
  if (!c || !state) return;
  c.textContent = changes.length === 0 ? 'no changes' : `${state.current >= 0 ? state.current + 1 : '–'} / ${changes.length}`;
}

document.addEventListener('keydown', (e) => {
  const t = e.target as HTMLElement | null;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) {
    if (!(e.altKey && (e.key === 'ArrowDown' || e.key === 'ArrowUp'))) return;
  }
  if (e.key === 'n' || e.key === 'j' || (e.altKey && e.key === 'ArrowDown')) go(1);
  else if (e.key === 'p' || e.key === 'k' || (e.altKey && e.key === 'ArrowUp')) go(-1);
  else if (e.key === 'i' && state) {
    state.layout = state.layout === 'side' ? 'inline' : 'side';
    save();
    render();
  } else if (e.key === 'o' && state) {
    state.outputs = !state.outputs;
    save();
    render();
  } else return;
  e.preventDefault();
});

api.postMessage({ type: 'diff/ready' });
