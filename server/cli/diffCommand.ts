/** `labbook diff A B` — notebooks, git revisions and runs; also git's external diff driver. */
import * as path from 'path';
import { LabbookError } from '../core/errors';
import { type DiffOptions, diffNotebooks, diffToJson } from '../notebook/diff';
import { type NbModel, parseNotebook } from '../notebook/model';
import { type DiffSource, readSourceText, resolveSource } from '../notebook/sources';
import { diffRuns } from '../notebook/runDiff';
import { toHunks } from '../notebook/textDiff';
import { Store } from '../store/db';
import { UsageError } from './args';
import { renderNotebookDiff, renderRunDiff } from './diffFormat';
import type { Style } from './format';

export interface DiffRequest {
  args: string[];
  gitDriver: boolean;
  workspace: string;
  cwd: string;
  json: boolean;
  style: Style;
  options: DiffOptions;
}

const EMPTY_NOTEBOOK = '{"nbformat":4,"nbformat_minor":5,"metadata":{},"cells":[]}';

/** The diff as text (or JSON text) for stdout. */
export function diffCommand(r: DiffRequest): string {
  if (r.gitDriver) return gitDriver(r);
  if (r.args.length !== 2) throw new UsageError(`'diff' needs two things to compare, A and B (got ${r.args.length})`);
  const store = Store.open(r.workspace, { create: false });
  try {
    const [a, b] = r.args.map((s) => resolveSource(s, r.cwd, store));
    if (a.kind === 'run' && b.kind === 'run') return runsDiff(store!, a.run, b.run, r);
    const other = a.kind === 'run' ? b : a;
    const textOf = (s: DiffSource) => (s.kind === 'run' ? runNotebookText(store!, s, other, r) : readSourceText(s, r.cwd));
    // Each text is parsed as soon as it is read, so only one raw file is in memory at a time.
    return notebooksDiff(() => textOf(a), () => textOf(b), { a: a.label, b: b.label }, r);
  } finally {
    store?.close();
  }
}

/** A run's notebook snapshot to set against a file: the one at the file's path, else its only notebook. */
function runNotebookText(store: Store, run: DiffSource & { kind: 'run' }, other: DiffSource, r: DiffRequest): string {
  const notebooks = store.getRun(run.run).code.filter((c) => c.kind === 'notebook');
  const otherPath = other.kind === 'run' ? '' : path.relative(r.workspace, path.resolve(r.cwd, other.path)).split(path.sep).join('/');
  const hit = notebooks.find((c) => c.path === otherPath) ?? (notebooks.length === 1 ? notebooks[0] : undefined);
  if (!hit) {
    const has = notebooks.length ? `its notebooks are ${notebooks.map((c) => c.path).join(', ')}` : 'it recorded no notebook';
    throw new LabbookError('NOT_FOUND', `${run.label} has no notebook to compare with ${other.label} (${has}).`);
  }
  return store.readBlob(hit.blob).toString('utf8');
}

function notebooksDiff(ta: () => string, tb: () => string, labels: { a: string; b: string }, r: DiffRequest): string {
  const a = parseNotebook(ta(), labels.a);
  const b = parseNotebook(tb(), labels.b);
  const d = diffNotebooks(a, b, r.options);
  if (r.json) return JSON.stringify(diffToJson(d, r.options));
  return renderNotebookDiff(d, a, b, labels, r.style, r.options);
}

function runsDiff(store: Store, a: string, b: string, r: DiffRequest): string {
  const d = diffRuns(store, a, b, r.options);
  if (r.json) {
    return JSON.stringify({
      runs: { a: d.a, b: d.b },
      params: d.params,
      metrics: d.metrics,
      files: d.files.map((f) => ({
        path: f.path,
        ...(f.pathB ? { pathB: f.pathB } : {}),
        kind: f.kind,
        op: f.op,
        ...(f.notebook ? { diff: diffToJson(f.notebook, r.options) } : {}),
        ...(f.text && f.op !== 'unchanged' ? { hunks: toHunks(f.text) } : {}),
        ...(f.problem ? { problem: f.problem } : {}),
      })),
    });
  }
  const models = new Map<string, { a: NbModel; b: NbModel }>();
  for (const f of d.files) if (f.notebook && f.texts) models.set(f.path, { a: parseNotebook(f.texts.a, f.path), b: parseNotebook(f.texts.b, f.pathB ?? f.path) });
  return renderRunDiff(d, models, r.style, r.options);
}

/**
 * git calls an external diff with PATH OLD-FILE OLD-HEX OLD-MODE NEW-FILE NEW-HEX NEW-MODE
 * (plus NEW-PATH and a rename note for renames); /dev/null stands for a missing side.
 */
function gitDriver(r: DiffRequest): string {
  if (r.args.length < 7) throw new UsageError(`--git-driver expects git's 7 external-diff arguments (got ${r.args.length}); set it up as described in the README`);
  const [name, oldFile, , , newFile] = r.args;
  const newName = r.args.length >= 9 ? r.args[7] : name;
  const read = (f: string) => (f === '/dev/null' ? EMPTY_NOTEBOOK : readSourceText({ kind: 'file', label: f, path: f }, r.cwd));
  const body = notebooksDiff(() => read(oldFile), () => read(newFile), { a: `a/${name}`, b: `b/${newName}` }, r);
  return r.json ? body : `${body}\n`;
}
