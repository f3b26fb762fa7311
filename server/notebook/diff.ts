/**
 * Cell-aware notebook diff. Cells are matched by id where both sides carry the same id, then by
 * identical content, then by similarity; the longest in-order run of matches stays in place and
 * every other match is a move (possibly also edited) rather than a delete plus an add. Metadata
 * and execution counts are compared separately from sources and outputs, so they are never
 * mistaken for output changes and can be shown or hidden on their own.
 */
import type { CellChange, CellOp, CellType, DiffSummary, MetadataChange } from '../protocol/diffDto';
import type { NbCell, NbModel } from './model';
import { type ImageInfo, type OutputChange, type ViewOutput, diffOutputs, normalizeOutputs } from './outputs';
import { type Hunk, type TextDiff, diffText, hasChanges, toHunks } from './textDiff';

export interface DiffOptions {
  /** Count cell metadata differences as changes (default: ignored). */
  metadata?: boolean;
  /** Count execution-count differences as changes (default: ignored). */
  execCounts?: boolean;
  /** Compare outputs (default true). */
  outputs?: boolean;
}

export interface CellDiff extends CellChange {
  source?: TextDiff;
  outputs?: OutputChange[];
  /** How the match was found (for moves and tests). */
  matchedBy?: MatchKind;
}

export interface NotebookDiff {
  summary: DiffSummary;
  cells: CellDiff[];
  /** Notebook-level metadata differences (kernel, language version …), always computed. */
  notebookMetadata: MetadataChange[];
  warnings: string[];
}

export type { CellOp, DiffSummary, MetadataChange };

/** Similarity (0–1) above which two unmatched cells are taken as one cell, edited. */
export const SIMILARITY_THRESHOLD = 0.5;
/** The same, for a cell found in another place (a move): unrelated prose must not pair up. */
export const MOVE_SIMILARITY_THRESHOLD = 0.65;

export function diffNotebooks(a: NbModel, b: NbModel, options: DiffOptions = {}): NotebookDiff {
  const withOutputs = options.outputs !== false;
  const match = matchCells(a.cells, b.cells);
  const inPlace = longestIncreasing(match.pairs);

  const entries: { pos: number; tie: number; cell: CellDiff }[] = [];
  // Where an A cell sits in B's order: after the B position of the nearest in-place cell before it.
  const anchorB = new Array<number>(a.cells.length).fill(-1);
  {
    let last = -1;
    for (let i = 0; i < a.cells.length; i++) {
      const j = match.aToB.get(i);
      if (j !== undefined && inPlace.has(i)) last = j;
      anchorB[i] = last;
    }
  }
  for (const [i, j] of match.pairs) {
    const ca = a.cells[i];
    const cb = b.cells[j];
    const d = compareCells(ca, cb, withOutputs ? normalizeOutputs(ca.outputs) : [], withOutputs ? normalizeOutputs(cb.outputs) : []);
    d.matchedBy = match.how.get(i);
    const visible = d.sourceChanged || d.outputsChanged || !!d.typeChanged || (options.metadata && d.metadataChanged) || (options.execCounts && d.execCountChanged);
    d.op = !inPlace.has(i) ? 'moved' : visible ? 'modified' : 'unchanged';
    entries.push({ pos: j, tie: 0, cell: d });
  }
  for (let j = 0; j < b.cells.length; j++) {
    if (match.bToA.has(j)) continue;
    const c = b.cells[j];
    entries.push({ pos: j, tie: 0, cell: blank('added', null, j, c.type) });
  }
  for (let i = 0; i < a.cells.length; i++) {
    if (match.aToB.has(i)) continue;
    entries.push({ pos: anchorB[i] + 0.5, tie: i, cell: blank('removed', i, null, a.cells[i].type) });
  }
  entries.sort((x, y) => x.pos - y.pos || x.tie - y.tie);
  const cells = entries.map((e) => e.cell);
  const summary: DiffSummary = { added: 0, removed: 0, modified: 0, moved: 0, unchanged: 0 };
  for (const c of cells) summary[c.op]++;
  return {
    summary,
    cells,
    notebookMetadata: diffMetadata(a.metadata, b.metadata),
    warnings: [...a.warnings, ...b.warnings, ...match.warnings],
  };
}

function blank(op: CellOp, a: number | null, b: number | null, type: CellType): CellDiff {
  return { op, a, b, type, sourceChanged: false, outputsChanged: false, metadataChanged: false, execCountChanged: false };
}

function compareCells(ca: NbCell, cb: NbCell, oa: ViewOutput[], ob: ViewOutput[]): CellDiff {
  const d = blank('unchanged', ca.index, cb.index, cb.type);
  if (ca.type !== cb.type) d.typeChanged = { a: ca.type, b: cb.type };
  if (ca.source !== cb.source) {
    d.source = diffText(ca.source, cb.source);
    d.sourceChanged = hasChanges(d.source);
  }
  const outputs = diffOutputs(oa, ob);
  if (outputs.length > 0) {
    d.outputs = outputs;
    d.outputsChanged = true;
  }
  const meta = diffMetadata(ca.metadata, cb.metadata);
  if (ca.attachments || cb.attachments) {
    const x = JSON.stringify(ca.attachments ?? {});
    const y = JSON.stringify(cb.attachments ?? {});
    if (x !== y) d.outputsChanged = true;
  }
  if (meta.length > 0) {
    d.metadata = meta;
    d.metadataChanged = true;
  }
  const execA = ca.type === 'code' ? ca.executionCount : null;
  const execB = cb.type === 'code' ? cb.executionCount : null;
  if (execA !== execB) {
    d.executionCount = { a: execA, b: execB };
    d.execCountChanged = true;
  }
  return d;
}

/** Top-level keys whose values differ (deep comparison through stable JSON). */
export function diffMetadata(a: Record<string, unknown>, b: Record<string, unknown>): MetadataChange[] {
  const out: MetadataChange[] = [];
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (stableJson(a[key]) !== stableJson(b[key])) out.push({ key, a: a[key], b: b[key] });
  }
  return out;
}

function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x,
  ) ?? 'undefined';
}

// ---- matching ------------------------------------------------------------------------------

export type MatchKind = 'id' | 'content' | 'similarity' | 'position';

interface Match {
  /** Matched (a, b) pairs in a's order. */
  pairs: [number, number][];
  aToB: Map<number, number>;
  bToA: Map<number, number>;
  how: Map<number, MatchKind>;
  warnings: string[];
}

export function matchCells(A: NbCell[], B: NbCell[]): Match {
  const aToB = new Map<number, number>();
  const bToA = new Map<number, number>();
  const how = new Map<number, MatchKind>();
  const warnings: string[] = [];
  const link = (i: number, j: number, by: MatchKind) => {
    aToB.set(i, j);
    bToA.set(j, i);
    how.set(i, by);
  };

  // 1. Ids, where both sides carry them.
  const idsA = A.filter((c) => c.id).length;
  const idsB = B.filter((c) => c.id).length;
  if (idsA > 0 && idsB > 0) {
    const byId = new Map<string, number>();
    for (const c of B) if (c.id && !byId.has(c.id)) byId.set(c.id, c.index);
    for (const c of A) {
      const j = c.id ? byId.get(c.id) : undefined;
      if (j !== undefined && !bToA.has(j)) link(c.index, j, 'id');
    }
  }
  if ((idsA === 0) !== (idsB === 0) && A.length > 0 && B.length > 0) {
    warnings.push('only one side has cell ids, so cells were matched by their content');
  }

  // 2. Identical content (type + source), first unmatched occurrence in order.
  const byContent = new Map<string, number[]>();
  for (const c of B) {
    if (bToA.has(c.index)) continue;
    const k = `${c.type}\u0000${c.source}`;
    const list = byContent.get(k);
    if (list) list.push(c.index);
    else byContent.set(k, [c.index]);
  }
  for (const c of A) {
    if (aToB.has(c.index)) continue;
    const list = byContent.get(`${c.type}\u0000${c.source}`);
    const j = list?.shift();
    if (j !== undefined) link(c.index, j, 'content');
  }

  // 3. Similar content among what is left, preferring cells in the same gap between anchors.
  const restA = A.filter((c) => !aToB.has(c.index));
  const restB = B.filter((c) => !bToA.has(c.index));
  if (restA.length > 0 && restB.length > 0) {
    const anchors = longestIncreasing(sortedPairs(aToB));
    const gapA = gaps(A.length, [...anchors].sort((x, y) => x - y));
    const gapB = gaps(B.length, [...anchors].map((i) => aToB.get(i)!).sort((x, y) => x - y));
    const candidates: { i: number; j: number; score: number; dist: number }[] = [];
    const profA = new Map(restA.map((c) => [c.index, profile(c.source)]));
    const profB = new Map(restB.map((c) => [c.index, profile(c.source)]));
    const consider = (ca: NbCell, cb: NbCell) => {
      // Different ids on both sides say these are different cells; only identical content (above) overrides that.
      if (ca.type !== cb.type || (ca.id && cb.id)) return;
      const sim = similarity(profA.get(ca.index)!, profB.get(cb.index)!);
      const sameGap = gapA[ca.index] === gapB[cb.index];
      // A look-alike elsewhere must be closer to count as this cell moved.
      if (sim < (sameGap ? SIMILARITY_THRESHOLD : MOVE_SIMILARITY_THRESHOLD)) return;
      candidates.push({ i: ca.index, j: cb.index, score: sim + (sameGap ? 0.15 : 0), dist: Math.abs(ca.index / A.length - cb.index / B.length) });
    };
    if (restA.length * restB.length <= 250_000) {
      for (const ca of restA) for (const cb of restB) consider(ca, cb);
    } else {
      // Many unmatched cells: only pairs sharing a line, or in the same gap, are compared.
      const byLine = new Map<string, number[]>();
      for (const cb of restB) for (const l of profB.get(cb.index)!.lines) {
        const list = byLine.get(l);
        if (!list) byLine.set(l, [cb.index]);
        else if (list.length <= 64) list.push(cb.index);
      }
      const byGap = new Map<number, NbCell[]>();
      for (const cb of restB) pushTo(byGap, gapB[cb.index], cb);
      for (const ca of restA) {
        const seen = new Set<number>();
        for (const l of profA.get(ca.index)!.lines) for (const j of byLine.get(l) ?? []) if (byLine.get(l)!.length <= 64) seen.add(j);
        for (const cb of (byGap.get(gapA[ca.index]) ?? []).slice(0, 64)) seen.add(cb.index);
        for (const j of seen) consider(ca, B[j]);
      }
    }
    candidates.sort((x, y) => y.score - x.score || x.dist - y.dist || x.i - y.i);
    for (const c of candidates) if (!aToB.has(c.i) && !bToA.has(c.j)) link(c.i, c.j, 'similarity');
    // 4. A gap left with as many unmatched cells on each side, of the same types in order: cells
    // rewritten in place (as a line diff pairs a replaced block) rather than deleted and re-added.
    const leftA = new Map<number, NbCell[]>();
    const leftB = new Map<number, NbCell[]>();
    for (const c of restA) if (!aToB.has(c.index)) pushTo(leftA, gapA[c.index], c);
    for (const c of restB) if (!bToA.has(c.index)) pushTo(leftB, gapB[c.index], c);
    for (const [g, xs] of leftA) {
      const ys = leftB.get(g);
      // Cells that both carry ids, different ones, are different cells: never paired by position.
      const pairable = (x: NbCell, y: NbCell) => x.type === y.type && !(x.id && y.id);
      if (ys && ys.length === xs.length && xs.every((x, k) => pairable(x, ys[k]))) xs.forEach((x, k) => link(x.index, ys[k].index, 'position'));
    }
  }
  return { pairs: sortedPairs(aToB), aToB, bToA, how, warnings };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const sortedPairs = (aToB: Map<number, number>): [number, number][] => [...aToB.entries()].sort((x, y) => x[0] - y[0]);

/** For each index, how many anchors lie before it: cells with equal values sit in the same gap. */
function gaps(length: number, anchors: number[]): Int32Array {
  const out = new Int32Array(length);
  let k = 0;
  for (let i = 0; i < length; i++) {
    while (k < anchors.length && anchors[k] < i) k++;
    out[i] = k;
  }
  return out;
}

/**
 * The a-indices of the longest run of pairs whose b-indices increase (patience / LIS,
 * O(n log n)): these cells kept their relative order; every other matched cell moved.
 */
export function longestIncreasing(pairs: [number, number][]): Set<number> {
  const tails: number[] = [];
  const tailIdx: number[] = [];
  const prev = new Int32Array(pairs.length).fill(-1);
  for (let k = 0; k < pairs.length; k++) {
    const v = pairs[k][1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (tails[mid] < v) lo = mid + 1;
      else hi = mid;
    }
    tails[lo] = v;
    tailIdx[lo] = k;
    prev[k] = lo > 0 ? tailIdx[lo - 1] : -1;
  }
  const keep = new Set<number>();
  for (let k = tails.length > 0 ? tailIdx[tails.length - 1] : -1; k >= 0; k = prev[k]) keep.add(pairs[k][0]);
  return keep;
}

// ---- similarity ----------------------------------------------------------------------------

interface Profile {
  /** Distinct trimmed non-empty lines. */
  lines: Set<string>;
  /** Character trigram counts (for short cells, where line overlap says little). */
  grams: Map<string, number> | null;
  size: number;
}

const MAX_GRAM_TEXT = 4000;

function profile(source: string): Profile {
  const lines = new Set<string>();
  for (const l of source.split('\n')) {
    const t = l.trim();
    if (t) lines.add(t);
  }
  let grams: Map<string, number> | null = null;
  let size = 0;
  if (lines.size < 6) {
    grams = new Map();
    // Trigrams: unrelated sentences share many letter pairs but few triples.
    const s = ` ${source.slice(0, MAX_GRAM_TEXT).replace(/\s+/g, ' ').trim()} `;
    for (let k = 0; k + 2 < s.length; k++) {
      const g = s.slice(k, k + 3);
      grams.set(g, (grams.get(g) ?? 0) + 1);
      size++;
    }
  }
  return { lines, grams, size };
}

function similarity(p: Profile, q: Profile): number {
  if (p.grams && q.grams) {
    if (p.size === 0 && q.size === 0) return 1;
    let common = 0;
    for (const [g, n] of p.grams) common += Math.min(n, q.grams.get(g) ?? 0);
    return (2 * common) / (p.size + q.size || 1);
  }
  if (p.lines.size === 0 && q.lines.size === 0) return 1;
  let common = 0;
  for (const l of p.lines) if (q.lines.has(l)) common++;
  return (2 * common) / (p.lines.size + q.lines.size);
}

// ---- JSON contract -------------------------------------------------------------------------

export interface CellDiffJson {
  op: CellOp;
  a: number | null;
  b: number | null;
  type: CellType;
  source?: Hunk[];
  outputs?: OutputChangeJson[];
  metadata?: MetadataChange[];
  executionCount?: { a: number | null; b: number | null };
  typeChanged?: { a: CellType; b: CellType };
}

export interface OutputChangeJson {
  op: OutputChange['op'];
  a: number | null;
  b: number | null;
  kind: string;
  mimes?: { mime: string; op: string; hunks?: Hunk[]; omittedLines?: number; image?: { a?: ImageInfo; b?: ImageInfo } }[];
}

/** The documented `labbook diff --json` shape (docs/notebook-diff.md). */
export function diffToJson(d: NotebookDiff, options: DiffOptions = {}): { summary: DiffSummary; cells: CellDiffJson[]; notebookMetadata?: MetadataChange[]; warnings: string[] } {
  const cells = d.cells.map((c): CellDiffJson => {
    const j: CellDiffJson = { op: c.op, a: c.a, b: c.b, type: c.type };
    if (c.typeChanged) j.typeChanged = c.typeChanged;
    if (c.sourceChanged && c.source) j.source = toHunks(c.source);
    if (c.outputsChanged && c.outputs) {
      j.outputs = c.outputs.map((o) => ({
        op: o.op,
        a: o.a,
        b: o.b,
        kind: o.kind,
        ...(o.mimes
          ? {
              mimes: o.mimes.map((m) => ({
                mime: m.mime,
                op: m.op,
                ...(m.text ? { hunks: toHunks(m.text) } : {}),
                ...(m.text?.omitted ? { omittedLines: m.text.omitted } : {}),
                ...(m.image ? { image: m.image } : {}),
              })),
            }
          : {}),
      }));
    }
    if (options.metadata && c.metadataChanged) j.metadata = c.metadata;
    if (options.execCounts && c.execCountChanged) j.executionCount = c.executionCount;
    return j;
  });
  return { summary: d.summary, cells, ...(options.metadata ? { notebookMetadata: d.notebookMetadata } : {}), warnings: d.warnings };
}
