/**
 * The code of two runs side by side: their parameter and final-metric differences, then each
 * code snapshot (notebook, script, modules, configs, uncommitted git diff) matched by path and
 * diffed — notebooks cell by cell, other files line by line.
 */
import type { CodeDto, RunDetail } from '../protocol/dto';
import type { Store } from '../store/db';
import { type DiffOptions, type NotebookDiff, diffNotebooks } from './diff';
import { parseNotebook } from './model';
import { type TextDiff, diffText, hasChanges } from './textDiff';

export interface ParamDifference {
  key: string;
  a: string | null;
  b: string | null;
}

export interface MetricDifference {
  key: string;
  a: number | null;
  b: number | null;
}

export interface FileDiff {
  path: string;
  /** Set when the two runs' main files have different paths (a renamed notebook or script). */
  pathB?: string;
  kind: CodeDto['kind'];
  op: 'added' | 'removed' | 'modified' | 'unchanged';
  notebook?: NotebookDiff;
  /** Both notebooks' text, for viewers that render cells (only for notebooks). */
  texts?: { a: string; b: string };
  text?: TextDiff;
  /** A notebook snapshot that could not be read as a notebook. */
  problem?: string;
}

export interface RunCodeDiff {
  a: { id: string; name: string };
  b: { id: string; name: string };
  params: ParamDifference[];
  identicalParams: number;
  metrics: MetricDifference[];
  files: FileDiff[];
}

const MAIN_KINDS = new Set<CodeDto['kind']>(['notebook', 'script']);

export function diffRuns(store: Store, refA: string, refB: string, options: DiffOptions = {}): RunCodeDiff {
  const a = store.getRun(refA);
  const b = store.getRun(refB);
  const { params, identical } = paramDifferences(a, b);
  return {
    a: { id: a.id, name: a.name },
    b: { id: b.id, name: b.name },
    params,
    identicalParams: identical,
    metrics: metricDifferences(a, b),
    files: codeDifferences(store, a.code, b.code, options),
  };
}

function paramDifferences(a: RunDetail, b: RunDetail): { params: ParamDifference[]; identical: number } {
  const pa = new Map(a.params.map((p) => [p.key, p.value]));
  const pb = new Map(b.params.map((p) => [p.key, p.value]));
  const out: ParamDifference[] = [];
  let identical = 0;
  for (const key of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
    const x = pa.get(key) ?? null;
    const y = pb.get(key) ?? null;
    if (x === y) identical++;
    else out.push({ key, a: x, b: y });
  }
  return { params: out, identical };
}

function metricDifferences(a: RunDetail, b: RunDetail): MetricDifference[] {
  const ma = new Map(a.metrics.map((m) => [m.key, m.last]));
  const mb = new Map(b.metrics.map((m) => [m.key, m.last]));
  return [...new Set([...ma.keys(), ...mb.keys()])].sort().map((key) => ({ key, a: ma.get(key) ?? null, b: mb.get(key) ?? null }));
}

function codeDifferences(store: Store, ca: CodeDto[], cb: CodeDto[], options: DiffOptions): FileDiff[] {
  const byPathB = new Map(cb.map((c) => [c.path, c]));
  const pairs: [CodeDto | undefined, CodeDto | undefined][] = [];
  const usedB = new Set<string>();
  for (const x of ca) {
    const y = byPathB.get(x.path);
    if (y) usedB.add(y.path);
    pairs.push([x, y]);
  }
  for (const y of cb) if (!usedB.has(y.path)) pairs.push([undefined, y]);
  // One main file on each side under different names: the same notebook or script, renamed.
  const loneA = pairs.filter(([x, y]) => x && !y && MAIN_KINDS.has(x.kind));
  const loneB = pairs.filter(([x, y]) => !x && y && MAIN_KINDS.has(y.kind));
  if (loneA.length === 1 && loneB.length === 1 && loneA[0][0]!.kind === loneB[0][1]!.kind) {
    loneA[0][1] = loneB[0][1];
    pairs.splice(pairs.indexOf(loneB[0]), 1);
  }
  const order = (k: CodeDto['kind']) => ['notebook', 'script', 'module', 'config', 'diff'].indexOf(k);
  pairs.sort(([x1, y1], [x2, y2]) => order((x1 ?? y1)!.kind) - order((x2 ?? y2)!.kind) || (x1 ?? y1)!.path.localeCompare((x2 ?? y2)!.path));
  return pairs.map(([x, y]) => fileDiff(store, x, y, options));
}

function fileDiff(store: Store, x: CodeDto | undefined, y: CodeDto | undefined, options: DiffOptions): FileDiff {
  const first = (x ?? y)!;
  const base: FileDiff = { path: first.path, kind: first.kind, op: !x ? 'added' : !y ? 'removed' : x.blob === y.blob ? 'unchanged' : 'modified' };
  if (x && y && x.path !== y.path) base.pathB = y.path;
  const ta = x ? store.readBlob(x.blob).toString('utf8') : '';
  const tb = y ? store.readBlob(y.blob).toString('utf8') : '';
  if (first.kind === 'notebook') {
    try {
      const empty = '{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}';
      base.notebook = diffNotebooks(parseNotebook(x ? ta : empty, x?.path ?? '(none)'), parseNotebook(y ? tb : empty, y?.path ?? '(none)'), options);
      base.texts = { a: x ? ta : empty, b: y ? tb : empty };
      if (base.op === 'modified' && base.notebook.cells.every((c) => c.op === 'unchanged')) base.op = 'unchanged';
      return base;
    } catch (e) {
      base.problem = (e as Error).message;
    }
  }
  if (base.op !== 'unchanged') {
    base.text = diffText(ta, tb);
    if (!hasChanges(base.text)) base.op = 'unchanged';
  }
  return base;
}
