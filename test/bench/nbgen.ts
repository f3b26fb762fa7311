/**
 * Seeded generator of notebook pairs (A, B) for the diff benchmark, with the edits between them
 * known (the "truth" a correct cell-level diff should report).
 *
 * A is a data-science notebook as Jupyter writes it (nbformat 4.4 or 4.5, indent 1, sorted keys):
 * markdown, data loading with HTML tables, training loops printing losses, tqdm progress on
 * stderr, plots as real PNGs (base64), errors with ANSI tracebacks. B is A after a working
 * session: some cells edited, added, removed, moved (some moved and edited), outputs re-run
 * with other numbers, images redrawn, cell metadata touched, and the whole notebook re-run from
 * a fresh kernel (every execution count differs).
 *
 * Run on its own it writes the pairs: `node out/bench/nbgen.js DIR [pair…]`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';

export interface PairSpec {
  name: string;
  seed: number;
  cells: number;
  /** nbformat 4.5 with cell ids, or 4.4 without (content alignment needed). */
  ids: boolean;
  /** Weights of the kinds of cell A is made of. */
  mix: Partial<Record<CellKind, number>>;
  /** Mean size of a PNG, base64 characters. */
  imageChars: number;
  /** Mean lines printed by a training loop; mean rows of a table. */
  streamLines: number;
  tableRows: number;
  /** Shares of A's cells touched between A and B (a count ≥ 1 when the share is > 0). */
  edit: { source: number; outputs: number; images: number; add: number; remove: number; move: number; metadata: number };
}

type CellKind = 'markdown' | 'load' | 'train' | 'plot' | 'describe' | 'def' | 'error' | 'progress';

/** What a correct diff with default options (no metadata, no execution counts) reports. */
export interface Truth {
  summary: { added: number; removed: number; modified: number; moved: number; unchanged: number };
  /** [A index, B index] of each moved cell. */
  moved: Array<[number, number]>;
  /** Cells changed only in execution count / only in metadata: unchanged by default. */
  execCountOnly: number;
  metadataOnly: number;
  imagesChanged: number;
}

export const PAIRS: Record<string, PairSpec> = {
  small: {
    name: 'small', seed: 11, cells: 20, ids: true,
    mix: { markdown: 5, load: 2, train: 2, plot: 2, describe: 2, def: 2, error: 0.5, progress: 1 },
    imageChars: 24_000, streamLines: 12, tableRows: 5,
    edit: { source: 0.1, outputs: 0.1, images: 0.5, add: 0.05, remove: 0.05, move: 0.05, metadata: 0.05 },
  },
  medium: {
    name: 'medium', seed: 23, cells: 300, ids: false,
    mix: { markdown: 5, load: 2, train: 2, describe: 2, def: 2, error: 0.3, progress: 1 },
    imageChars: 0, streamLines: 100, tableRows: 30,
    edit: { source: 0.04, outputs: 0.06, images: 0, add: 0.02, remove: 0.02, move: 0.01, metadata: 0.02 },
  },
  // Close to nbdime#540 (a 4.3 MB notebook with a small change took 8 min) and #358 (~200 cells,
  // loops, tqdm, images, pandas, matplotlib).
  nbdime540: {
    name: 'nbdime540', seed: 540, cells: 200, ids: false,
    mix: { markdown: 4, load: 2, train: 2, plot: 2, describe: 2, def: 2, error: 0.2, progress: 1 },
    imageChars: 125_000, streamLines: 100, tableRows: 30,
    edit: { source: 0.01, outputs: 0.02, images: 0.05, add: 0.005, remove: 0, move: 0, metadata: 0.01 },
  },
  large: {
    name: 'large', seed: 2000, cells: 2000, ids: false,
    mix: { markdown: 4, load: 2, train: 2, plot: 2, describe: 2, def: 2, error: 0.2, progress: 1 },
    imageChars: 142_000, streamLines: 80, tableRows: 25,
    edit: { source: 0.03, outputs: 0.04, images: 0.1, add: 0.015, remove: 0.015, move: 0.01, metadata: 0.02 },
  },
  // The same shape with cell ids (nbformat 4.5): matching by id instead of by content.
  'large-ids': {
    name: 'large-ids', seed: 2001, cells: 2000, ids: true,
    mix: { markdown: 4, load: 2, train: 2, plot: 2, describe: 2, def: 2, error: 0.2, progress: 1 },
    imageChars: 142_000, streamLines: 80, tableRows: 25,
    edit: { source: 0.03, outputs: 0.04, images: 0.1, add: 0.015, remove: 0.015, move: 0.01, metadata: 0.02 },
  },
};

// ---------------------------------------------------------------- randomness (mulberry32)

class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number { return lo + Math.floor(this.next() * (hi - lo + 1)); }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.next() * xs.length)]; }
  chance(p: number): boolean { return this.next() < p; }
  /** Around mean, ±50%. */
  around(mean: number): number { return Math.max(1, Math.round(mean * (0.5 + this.next()))); }
  hex(n: number): string { let s = ''; for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(0, 15)]; return s; }
  /** k distinct indices of [0, n). */
  sample(n: number, k: number): number[] {
    const xs = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < Math.min(k, n); i++) { const j = this.int(i, n - 1); [xs[i], xs[j]] = [xs[j], xs[i]]; }
    return xs.slice(0, Math.min(k, n));
  }
}

// ---------------------------------------------------------------- nbformat shapes

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Output { [k: string]: Json }
interface Cell {
  cell_type: 'code' | 'markdown';
  execution_count?: number | null;
  id?: string;
  metadata: { [k: string]: Json };
  outputs?: Output[];
  source: string;
}

/** Jupyter's multiline strings: lines keeping their '\n'. */
const lines = (text: string): string[] => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

// ---------------------------------------------------------------- PNG images

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; t[n] = c; }
  return t;
})();
function crc32(buf: Buffer): number {
  let c = -1;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/**
 * A valid RGB PNG of a "plot": white background, axes, a curve, and a noisy heatmap strip
 * whose height sets the compressed size near `chars` base64 characters.
 */
export function png(rng: Rng, width: number, height: number, chars: number): string {
  const stride = 1 + width * 3;
  const raw = Buffer.alloc(stride * height, 0xff);
  const noisyRows = Math.min(height - 20, Math.max(0, Math.round((chars * 0.75) / (width * 3))));
  const top = Math.floor((height - noisyRows) / 2);
  let x = rng.int(1, 0x7fffffff);
  for (let y = 0; y < height; y++) {
    const row = y * stride;
    raw[row] = 0; // filter: none
    if (y >= top && y < top + noisyRows) {
      for (let i = 1; i < stride; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; raw[row + i] = x & 0xff; }
    }
    raw.fill(0, row + 1 + 30 * 3, row + 1 + 31 * 3); // y axis
  }
  raw.fill(0, (height - 20) * stride + 1, (height - 19) * stride); // x axis
  const phase = rng.next() * 6;
  for (let px = 31; px < width; px++) {
    const py = Math.round(height / 2 + (height / 3) * Math.sin(phase + px / 40));
    const o = py * stride + 1 + px * 3;
    raw[o] = 0x1f; raw[o + 1] = 0x77; raw[o + 2] = 0xb4; // matplotlib's first colour
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0); ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const file = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 1 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
  return file.toString('base64') + '\n';
}

// ---------------------------------------------------------------- cell contents

// A vocabulary wide enough that two unrelated paragraphs share no more than real prose does.
const WORDS = ('the a of to in and is that for on with as this we it be are by from at was not or an ' +
  'model data loss training validation split feature column baseline result run accuracy rate batch ' +
  'epoch schedule outliers distribution mean median variance sample customers orders revenue churn ' +
  'season holiday weekday store region product price discount campaign newsletter cohort retention ' +
  'sensor temperature humidity pressure calibration drift noise signal window lag forecast horizon ' +
  'gradient boosting forest tree depth leaf regularization dropout optimizer momentum warmup decay ' +
  'precision recall threshold curve calibrated probability label imbalance weighting oversampling ' +
  'missing imputed encoded categorical numeric scaled normalized skewed log transform interaction ' +
  'improves drops rises falls doubles halves stays shrinks grows matches beats trails explains hides ' +
  'clearly slightly roughly mostly rarely often later earlier below above after before since because ' +
  'although unless while whereas however therefore moreover instead otherwise overall finally first ' +
  'january march june september december monday friday morning evening yesterday quarter fiscal year ' +
  'table figure plot chart histogram scatter heatmap residuals errors outlier spike gap trend pattern ' +
  'team manager analyst engineer client vendor partner supplier warehouse shipment delivery invoice').split(' ');
const COLS = ['price', 'age', 'income', 'clicks', 'score', 'duration', 'temperature', 'volume', 'rating', 'visits'];
const NAMES = ['sales', 'users', 'sensors', 'events', 'orders', 'sessions', 'weather', 'reviews'];
const TITLES = ['Training loss', 'Validation accuracy', 'Feature importance', 'Residuals', 'Learning rate', 'Confusion'];
const SIZES: Array<[number, number]> = [[432, 288], [640, 480], [864, 576], [1000, 600]];

function sentence(rng: Rng, n: number): string {
  const w = Array.from({ length: n }, () => rng.pick(WORDS));
  return w[0][0].toUpperCase() + w[0].slice(1) + ' ' + w.slice(1).join(' ') + '.';
}
function fmt(x: number, d = 4): string { return x.toFixed(d); }

function htmlTable(rng: Rng, rows: number, cols: string[]): { html: string; plain: string } {
  let html = '<div>\n<style scoped>\n    .dataframe tbody tr th:only-of-type {\n        vertical-align: middle;\n    }\n</style>\n' +
    '<table border="1" class="dataframe">\n  <thead>\n    <tr style="text-align: right;">\n      <th></th>\n';
  for (const c of cols) html += `      <th>${c}</th>\n`;
  html += '    </tr>\n  </thead>\n  <tbody>\n';
  let plain = '      ' + cols.map((c) => c.padStart(12)).join('') + '\n';
  for (let r = 0; r < rows; r++) {
    const vals = cols.map(() => fmt(rng.next() * 1000, 3));
    html += `    <tr>\n      <th>${r}</th>\n` + vals.map((v) => `      <td>${v}</td>\n`).join('') + '    </tr>\n';
    plain += String(r).padEnd(6) + vals.map((v) => v.padStart(12)).join('') + '\n';
  }
  html += '  </tbody>\n</table>\n' + `<p>${rows} rows × ${cols.length} columns</p>\n</div>`;
  return { html, plain: plain.trimEnd() };
}

interface Made { source: string; outputs?: Output[]; kind: CellKind }

function makeCell(kind: CellKind, i: number, rng: Rng, spec: PairSpec): Made {
  const name = rng.pick(NAMES);
  const col = rng.pick(COLS);
  switch (kind) {
    case 'markdown': {
      const paras = rng.int(1, 3);
      let s = `## ${rng.pick(['Results', 'Data', 'Model', 'Notes', 'Setup', 'Evaluation'])} ${i}\n`;
      for (let p = 0; p < paras; p++) s += '\n' + Array.from({ length: rng.int(2, 5) }, () => sentence(rng, rng.int(6, 14))).join(' ') + '\n';
      return { kind, source: s.trimEnd() };
    }
    case 'load': {
      const k = rng.around(spec.tableRows);
      const cols = rng.sample(COLS.length, rng.int(3, 6)).map((c) => COLS[c]);
      const t = htmlTable(rng, k, cols);
      return {
        kind,
        source: `df_${i} = pd.read_csv("data/${name}_${i}.csv", parse_dates=["timestamp"])\n` +
          `df_${i} = df_${i}.dropna(subset=["${col}"])\nprint(df_${i}.shape)\ndf_${i}.head(${k})`,
        outputs: [
          { name: 'stdout', output_type: 'stream', text: lines(`(${rng.int(1000, 90000)}, ${cols.length})\n`) },
          { data: { 'text/html': lines(t.html), 'text/plain': lines(t.plain) }, execution_count: 0, metadata: {}, output_type: 'execute_result' },
        ],
      };
    }
    case 'train': {
      const epochs = rng.around(spec.streamLines);
      const lr = rng.pick(['1e-3', '3e-4', '1e-2', '5e-4']);
      let loss = 0.6 + rng.next();
      let text = '';
      for (let e = 0; e < epochs; e++) {
        loss *= 0.97 + rng.next() * 0.02;
        text += `epoch ${String(e).padStart(3)}  loss ${fmt(loss)}  val_loss ${fmt(loss * (1.02 + rng.next() * 0.1))}  acc ${fmt(1 - loss / 2, 3)}\n`;
      }
      return {
        kind,
        source: `history_${i} = []\nfor epoch in range(${epochs}):\n    loss_${i} = train_epoch(model, loader_${i}, lr=${lr})\n` +
          `    history_${i}.append(loss_${i})\n    print(f"epoch {epoch:3d}  loss {loss_${i}:.4f}  val_loss {evaluate(model):.4f}  acc {accuracy(model):.3f}")`,
        outputs: [{ name: 'stdout', output_type: 'stream', text: lines(text) }],
      };
    }
    case 'plot': {
      const [w, h] = rng.pick(SIZES);
      const title = rng.pick(TITLES);
      return {
        kind,
        source: `fig, ax = plt.subplots(figsize=(${w / 72}, ${h / 72}))\nax.plot(history_${Math.max(0, i - rng.int(1, 5))}, label="${col}")\n` +
          `ax.set_xlabel("epoch")\nax.set_title("${title} #${i}")\nax.legend()\nplt.show()`,
        outputs: [{
          data: { 'image/png': png(rng, w, h, rng.around(spec.imageChars)), 'text/plain': [`<Figure size ${w}x${h} with 1 Axes>`] },
          metadata: {}, output_type: 'display_data',
        }],
      };
    }
    case 'describe': {
      const t = htmlTable(rng, rng.around(spec.tableRows / 2), ['mean', 'std', 'count']);
      return {
        kind,
        source: `summary_${i} = (\n    df_${Math.max(0, i - rng.int(1, 9))}\n    .groupby("${col}")\n    .agg({"${rng.pick(COLS)}": ["mean", "std", "count"]})\n)\nsummary_${i}.round(3)`,
        outputs: [{ data: { 'text/html': lines(t.html), 'text/plain': lines(t.plain) }, execution_count: 0, metadata: {}, output_type: 'execute_result' }],
      };
    }
    case 'def': {
      const n = rng.int(3, 9);
      let s = `def transform_${i}(frame, column="${col}", window=${rng.int(2, 30)}):\n    """${sentence(rng, rng.int(5, 10))}"""\n    out = frame.copy()\n`;
      for (let k = 0; k < n; k++) s += `    out["${col}_${k}"] = out[column].rolling(window).${rng.pick(['mean', 'std', 'max', 'min', 'median'])}()\n`;
      return { kind, source: s + '    return out' };
    }
    case 'error': {
      const red = '\u001b[0;31m', reset = '\u001b[0m', green = '\u001b[0;32m';
      return {
        kind,
        source: `pred_${i} = model.predict(X_test[["${col}", "${rng.pick(COLS)}"]])\nscore_${i} = accuracy_score(y_test, pred_${i})`,
        outputs: [{
          ename: 'KeyError', evalue: `"['${col}'] not in index"`, output_type: 'error',
          traceback: [
            `${red}---------------------------------------------------------------------------${reset}`,
            `${red}KeyError${reset}                                  Traceback (most recent call last)`,
            `Cell ${green}In[${i}], line 1${reset}\n${green}----> 1${reset} pred_${i} ${reset}=${reset} model${reset}.${reset}predict(X_test[[${col}]])`,
            `File ${green}/usr/lib/python3/dist-packages/pandas/core/frame.py:3813${reset}, in ${red}DataFrame.__getitem__${reset}(self, key)`,
            `${red}KeyError${reset}: "['${col}'] not in index"`,
          ],
        }],
      };
    }
    case 'progress': {
      const total = rng.int(50, 400);
      let err = '';
      for (let s = 0; s <= 10; s++) err += `\r${name}: ${String(s * 10).padStart(3)}%|${'█'.repeat(s)}${' '.repeat(10 - s)}| ${Math.round((total * s) / 10)}/${total} [00:${String(s).padStart(2, '0')}<00:${String(10 - s).padStart(2, '0')}, ${fmt(10 + rng.next() * 90, 2)}it/s]`;
      return {
        kind,
        source: `for batch in tqdm(loader_${i}, desc="${name}"):\n    features_${i}.append(encoder(batch))\nlen(features_${i})`,
        outputs: [
          { name: 'stderr', output_type: 'stream', text: lines(err + '\n') },
          { data: { 'text/plain': [String(total)] }, execution_count: 0, metadata: {}, output_type: 'execute_result' },
        ],
      };
    }
  }
}

/** Cells added in B: kinds of content that A does not have, so they cannot pass for edits. */
function makeAdded(i: number, rng: Rng): Made {
  if (rng.chance(0.4)) return { kind: 'markdown', source: `> **Review note ${i}:** ${sentence(rng, rng.int(8, 16))} ${sentence(rng, rng.int(8, 16))}` };
  const j = rng.int(0, 9999);
  return {
    kind: 'def',
    source: `# sanity check added in review (${i})\nassert frame_${j}.notna().all().all(), "missing values in frame_${j}"\n` +
      `assert len(frame_${j}) > ${rng.int(10, 999)}\nprint("checked", frame_${j}.shape, "seed", ${j})`,
    outputs: [{ name: 'stdout', output_type: 'stream', text: [`checked (${rng.int(100, 9999)}, ${rng.int(2, 9)}) seed ${j}\n`] }],
  };
}

// ---------------------------------------------------------------- edits

/** A small edit a person makes: another number on one line, or a line more. */
function editSource(source: string, rng: Rng, kind: CellKind): string {
  const ls = source.split('\n');
  if (kind === 'markdown') {
    const k = rng.int(0, ls.length - 1);
    ls[k] = ls[k] + (ls[k].startsWith('#') ? ' (revised)' : ` ${sentence(rng, rng.int(4, 8))}`);
    return ls.join('\n');
  }
  const numbered = ls.map((l, k) => (/\d/.test(l) ? k : -1)).filter((k) => k >= 0);
  if (numbered.length && rng.chance(0.7)) {
    const k = rng.pick(numbered);
    let done = false;
    ls[k] = ls[k].replace(/\d+(\.\d+)?(e-?\d+)?/g, (m) => {
      if (done || !rng.chance(0.5)) return m;
      done = true;
      return m.includes('e') ? rng.pick(['2e-3', '7e-4', '5e-2']) : String(Number(m) + rng.int(1, 9));
    });
    if (done) return ls.join('\n');
  }
  ls.splice(rng.int(1, ls.length), 0, `${/^\s/.test(ls[ls.length - 1]) ? '    ' : ''}log.debug("checkpoint ${rng.int(0, 9999)}")`);
  return ls.join('\n');
}

/** The same cell run again: other numbers in the printed text / tables; images redrawn. */
function rerunOutputs(outputs: Output[], rng: Rng, spec: PairSpec): { outputs: Output[]; image: boolean } {
  let image = false;
  let changed = false;
  const jiggle = (text: string[]) => text.map((l) => (rng.chance(0.3) ? l.replace(/\d\.\d{3,4}/g, (m) => (rng.next() + Number(m[0])).toFixed(m.length - 2)) : l));
  const out = outputs.map((o) => {
    const c: Output = JSON.parse(JSON.stringify(o));
    if (c.output_type === 'stream' && Array.isArray(c.text)) { c.text = jiggle(c.text as string[]); changed = true; }
    const data = c.data as { [k: string]: Json } | undefined;
    if (data?.['image/png']) {
      const m = /size (\d+)x(\d+)/.exec(String((data['text/plain'] as string[])[0]));
      const [w, h] = rng.chance(0.2) ? rng.pick(SIZES) : [Number(m![1]), Number(m![2])];
      data['image/png'] = png(rng, w, h, rng.around(spec.imageChars));
      data['text/plain'] = [`<Figure size ${w}x${h} with 1 Axes>`];
      image = changed = true;
    } else if (data?.['text/html']) {
      data['text/html'] = jiggle(data['text/html'] as string[]);
      data['text/plain'] = jiggle(data['text/plain'] as string[]);
      changed = true;
    }
    return c;
  });
  // A cell whose jiggle missed every line still gets one visible change.
  if (!changed || JSON.stringify(out) === JSON.stringify(outputs)) {
    out.push({ name: 'stdout', output_type: 'stream', text: [`re-run at step ${rng.int(1, 99999)}\n`] });
  }
  return { outputs: out, image };
}

// ---------------------------------------------------------------- the pair

interface Slot { from: number | null; cell: Cell; made: Made; sourceEdited: boolean; outputsEdited: boolean; metadataEdited: boolean; image: boolean }

function toCell(made: Made, rng: Rng, ids: boolean): Cell {
  const cell: Cell = made.kind === 'markdown'
    ? { cell_type: 'markdown', metadata: {}, source: made.source }
    : { cell_type: 'code', execution_count: null, metadata: {}, outputs: made.outputs ?? [], source: made.source };
  if (ids) cell.id = rng.hex(8);
  return cell;
}

/** Execution counts as a kernel session leaves them; results carry the cell's count. */
function number(cells: Cell[], start: number, rng: Rng, gaps: boolean): void {
  let n = start;
  for (const c of cells) {
    if (c.cell_type !== 'code') continue;
    c.execution_count = n;
    for (const o of c.outputs!) if (o.output_type === 'execute_result') o.execution_count = n;
    n += gaps && rng.chance(0.3) ? rng.int(2, 5) : 1;
  }
}

function notebook(cells: Cell[], spec: PairSpec, pythonVersion: string): Json {
  const sorted = (o: object): Json => {
    if (Array.isArray(o)) return o.map(sorted);
    if (o && typeof o === 'object') return Object.fromEntries(Object.keys(o).sort().map((k) => [k, sorted((o as Record<string, object>)[k])]));
    return o as Json;
  };
  return sorted({
    cells: cells.map((c) => ({ ...c, source: lines(c.source) })),
    metadata: {
      kernelspec: { display_name: 'Python 3 (ipykernel)', language: 'python', name: 'python3' },
      language_info: {
        codemirror_mode: { name: 'ipython', version: 3 }, file_extension: '.py', mimetype: 'text/x-python',
        name: 'python', nbconvert_exporter: 'python', pygments_lexer: 'ipython3', version: pythonVersion,
      },
    },
    nbformat: 4,
    nbformat_minor: spec.ids ? 5 : 4,
  });
}

function lisMembers(seq: number[]): Set<number> {
  // Longest increasing subsequence by patience sorting; returns the positions in seq it keeps.
  const tails: number[] = [];
  const prev = new Array<number>(seq.length).fill(-1);
  for (let i = 0; i < seq.length; i++) {
    let lo = 0, hi = tails.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (seq[tails[mid]] < seq[i]) lo = mid + 1; else hi = mid; }
    if (lo > 0) prev[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const keep = new Set<number>();
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = prev[i]) keep.add(i);
  return keep;
}

export function generatePair(spec: PairSpec): { a: Json; b: Json; truth: Truth } {
  const rng = new Rng(spec.seed);
  const kinds = Object.entries(spec.mix) as Array<[CellKind, number]>;
  const total = kinds.reduce((s, [, w]) => s + w, 0);
  const pickKind = (): CellKind => {
    let x = rng.next() * total;
    for (const [k, w] of kinds) if ((x -= w) < 0) return k;
    return kinds[0][0];
  };

  const madeA: Made[] = [];
  for (let i = 0; i < spec.cells; i++) madeA.push(makeCell(i === 0 ? 'markdown' : pickKind(), i, rng, spec));
  const cellsA = madeA.map((m) => toCell(m, rng, spec.ids));
  number(cellsA, rng.int(1, 40), rng, true);

  const count = (share: number, n: number) => (share > 0 ? Math.max(1, Math.round(share * n)) : 0);
  const n = spec.cells;
  const clone = (c: Cell): Cell => JSON.parse(JSON.stringify(c));
  let slots: Slot[] = cellsA.map((c, i) => ({ from: i, cell: clone(c), made: madeA[i], sourceEdited: false, outputsEdited: false, metadataEdited: false, image: false }));

  // Disjoint choices so each edit stays what it says it is.
  const order = rng.sample(n - 1, n - 1).map((k) => k + 1); // cell 0 (the title) stays put
  const used = new Set<Slot>();
  const take = (k: number, ok: (s: Slot) => boolean) => {
    const got: Slot[] = [];
    for (let j = 0; j < order.length && got.length < k; j++) {
      const s = slots[order[j]];
      if (!used.has(s) && ok(s)) { used.add(s); got.push(s); }
    }
    return got;
  };
  const hasImage = (s: Slot) => s.made.kind === 'plot';
  const hasOutputs = (s: Slot) => !!s.made.outputs?.length && s.made.kind !== 'error' && !hasImage(s);

  const images = slots.filter(hasImage).length;
  for (const s of take(count(spec.edit.images, images), hasImage)) {
    const r = rerunOutputs(s.cell.outputs!, rng, spec);
    s.cell.outputs = r.outputs; s.outputsEdited = true; s.image = r.image;
  }
  for (const s of take(count(spec.edit.outputs, n), hasOutputs)) {
    s.cell.outputs = rerunOutputs(s.cell.outputs!, rng, spec).outputs; s.outputsEdited = true;
  }
  for (const s of take(count(spec.edit.source, n), () => true)) {
    s.cell.source = editSource(s.cell.source, rng, s.made.kind); s.sourceEdited = true;
    if (s.cell.outputs?.length && s.made.kind !== 'error' && rng.chance(0.5)) {
      const r = rerunOutputs(s.cell.outputs, rng, spec);
      s.cell.outputs = r.outputs; s.outputsEdited = true; s.image = r.image;
    }
  }
  for (const s of take(count(spec.edit.metadata, n), () => true)) {
    s.cell.metadata = rng.chance(0.5) ? { tags: ['parameters'] } : { collapsed: true, scrolled: true };
    s.metadataEdited = true;
  }
  const removed = new Set(take(count(spec.edit.remove, n), () => true));
  const moving = take(count(spec.edit.move, n), () => true);
  // Half of the moved cells are also edited (a move and an edit: reported as moved, with hunks).
  moving.forEach((s, k) => { if (k % 2 === 1 && !s.sourceEdited) { s.cell.source = editSource(s.cell.source, rng, s.made.kind); s.sourceEdited = true; } });
  const movingSet = new Set(moving);
  slots = slots.filter((s) => !removed.has(s) && !movingSet.has(s));
  for (const s of moving) {
    // Far from where it was: a real move, not a neighbour swap.
    const at = slots.findIndex((t) => t.from! > s.from!);
    const old = at < 0 ? slots.length : at;
    let to = old;
    while (Math.abs(to - old) < Math.max(3, Math.floor(slots.length / 10))) to = rng.int(1, slots.length);
    slots.splice(to, 0, s);
  }
  const adds = count(spec.edit.add, n);
  for (let k = 0; k < adds; k++) {
    const made = makeAdded(n + k, rng);
    slots.splice(rng.int(1, slots.length), 0, { from: null, cell: toCell(made, rng, spec.ids), made, sourceEdited: false, outputsEdited: false, metadataEdited: false, image: false });
  }

  // Restart & Run All: every count renumbered from 1 (A had gaps from re-running cells).
  const cellsB = slots.map((s) => s.cell);
  number(cellsB, 1, rng, false);

  const matched = slots.map((s, k) => ({ s, k })).filter((x) => x.s.from !== null);
  const inOrder = lisMembers(matched.map((x) => x.s.from!));
  const truth: Truth = { summary: { added: 0, removed: 0, modified: 0, moved: 0, unchanged: 0 }, moved: [], execCountOnly: 0, metadataOnly: 0, imagesChanged: 0 };
  truth.summary.added = slots.length - matched.length;
  truth.summary.removed = n - matched.length;
  matched.forEach((x, k) => {
    const { s } = x;
    if (s.image) truth.imagesChanged++;
    if (!inOrder.has(k)) { truth.summary.moved++; truth.moved.push([s.from!, x.k]); return; }
    if (s.sourceEdited || s.outputsEdited) { truth.summary.modified++; return; }
    truth.summary.unchanged++;
    if (s.metadataEdited) truth.metadataOnly++;
    else if (s.cell.cell_type === 'code' && s.cell.execution_count !== cellsA[s.from!].execution_count) truth.execCountOnly++;
  });
  return { a: notebook(cellsA, spec, '3.11.7'), b: notebook(cellsB, spec, '3.11.9'), truth };
}

export interface WrittenPair { name: string; a: string; b: string; aBytes: number; bBytes: number; cells: number; truth: Truth }

/** Writes DIR/NAME/A.ipynb, B.ipynb and truth.json as Jupyter would (indent 1). */
export function writePair(dir: string, spec: PairSpec): WrittenPair {
  const { a, b, truth } = generatePair(spec);
  const d = path.join(dir, spec.name);
  fs.mkdirSync(d, { recursive: true });
  const files = { a: path.join(d, 'A.ipynb'), b: path.join(d, 'B.ipynb') };
  const ta = JSON.stringify(a, null, 1) + '\n';
  const tb = JSON.stringify(b, null, 1) + '\n';
  fs.writeFileSync(files.a, ta);
  fs.writeFileSync(files.b, tb);
  fs.writeFileSync(path.join(d, 'truth.json'), JSON.stringify({ spec, truth }, null, 1) + '\n');
  return { name: spec.name, ...files, aBytes: Buffer.byteLength(ta), bBytes: Buffer.byteLength(tb), cells: spec.cells, truth };
}

// Bundled into diff.bench.js too, where `require.main === module` would also hold: go by the script's name.
if (/nbgen\.js$/.test(process.argv[1] ?? '')) {
  const [dir, ...names] = process.argv.slice(2);
  if (!dir) {
    console.error(`usage: node out/bench/nbgen.js DIR [${Object.keys(PAIRS).join('|')}…]`);
    process.exit(2);
  }
  for (const name of names.length ? names : Object.keys(PAIRS)) {
    const spec = PAIRS[name];
    if (!spec) { console.error(`unknown pair '${name}'`); process.exit(2); }
    const w = writePair(dir, spec);
    console.log(`${w.name}: ${w.a} (${(w.aBytes / 1e6).toFixed(1)} MB), ${w.b} (${(w.bBytes / 1e6).toFixed(1)} MB) · truth ${JSON.stringify(w.truth.summary)}`);
  }
}
