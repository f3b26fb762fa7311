/**
 * The diff shaped for the webview: every op with both sides' sources and outputs, with each
 * difference (source, outputs, metadata, execution count) flagged on its own so the view can
 * hide or show metadata and execution counts without asking again. Bounded: long text outputs
 * are cut for display, and large outputs of unchanged cells are left out.
 */
import type { DiffViewModel, ViewCell, ViewNotebookDiff, ViewOutput } from '../protocol/diffDto';
import type { Store } from '../store/db';
import { type NotebookDiff, diffNotebooks } from './diff';
import { type NbModel, parseNotebook } from './model';
import { normalizeOutputs } from './outputs';
import { diffRuns } from './runDiff';

/** Text of one MIME type shown up to this many characters. */
const MAX_SHOWN_TEXT = 100_000;
/** Unchanged cells carry their outputs only up to this size in all. */
const MAX_UNCHANGED_OUTPUTS = 200_000;

export function notebookView(d: NotebookDiff, a: NbModel, b: NbModel): ViewNotebookDiff {
  return {
    summary: d.summary,
    notebookMetadata: d.notebookMetadata,
    warnings: d.warnings,
    cells: d.cells.map((c): ViewCell => {
      const ca = c.a !== null ? a.cells[c.a] : undefined;
      const cb = c.b !== null ? b.cells[c.b] : undefined;
      // The change itself (op, sides, flags, metadata, execution counts) as the engine found it.
      const { source, outputs, matchedBy: _how, ...change } = c;
      const v: ViewCell = change;
      if (ca) v.sourceA = ca.source;
      if (cb && (!ca || cb.source !== ca.source)) v.sourceB = cb.source;
      if (c.sourceChanged && source) v.lines = source.lines;
      const oa = ca ? normalizeOutputs(ca.outputs) : [];
      const ob = cb ? normalizeOutputs(cb.outputs) : [];
      if (c.op === 'unchanged' && !c.outputsChanged && size(ob) > MAX_UNCHANGED_OUTPUTS) v.outputsElided = true;
      else {
        if (ca && oa.length) v.outputsA = oa.map(forDisplay);
        if (cb && ob.length) v.outputsB = ob.map(forDisplay);
      }
      if (outputs) {
        v.outputChanges = outputs.map((o) => ({
          op: o.op,
          a: o.a,
          b: o.b,
          kind: o.kind,
          ...(o.mimes ? { mimes: o.mimes.map((m) => ({ mime: m.mime, op: m.op, ...(m.text ? { lines: m.text.lines, omitted: m.text.omitted } : {}), ...(m.image ? { image: m.image } : {}) })) } : {}),
        }));
      }
      return v;
    }),
  };
}

function size(outputs: ViewOutput[]): number {
  let n = 0;
  for (const o of outputs) for (const v of Object.values(o.data)) n += v.length;
  return n;
}

function forDisplay(o: ViewOutput): ViewOutput {
  let truncated = false;
  const data: Record<string, string> = {};
  for (const [mime, v] of Object.entries(o.data)) {
    if (!mime.startsWith('image/') && v.length > MAX_SHOWN_TEXT) {
      data[mime] = `${v.slice(0, MAX_SHOWN_TEXT / 2)}\n… ${(v.length - MAX_SHOWN_TEXT).toLocaleString('en')} characters not shown …\n${v.slice(-MAX_SHOWN_TEXT / 2)}`;
      truncated = true;
    } else data[mime] = v;
  }
  return truncated ? { kind: o.kind, data, truncated } : { kind: o.kind, data };
}

/** A notebook pair's view model from both texts. */
export function notebookPairView(ta: string, tb: string, labels: { a: string; b: string }, title: string): DiffViewModel {
  const a = parseNotebook(ta, labels.a);
  const b = parseNotebook(tb, labels.b);
  // Everything is computed; the view decides what metadata / execution counts to show.
  const d = diffNotebooks(a, b, {});
  return { title, labels, notebooks: [{ diff: notebookView(d, a, b) }] };
}

/** Two runs' code as a view model: parameters and metrics, each notebook, other files. */
export function runsView(store: Store, runA: string, runB: string): DiffViewModel {
  const d = diffRuns(store, runA, runB);
  const notebooks: DiffViewModel['notebooks'] = [];
  const files: NonNullable<DiffViewModel['files']> = [];
  for (const f of d.files) {
    if (f.notebook && f.texts) {
      const a = parseNotebook(f.texts.a, f.path);
      const b = parseNotebook(f.texts.b, f.pathB ?? f.path);
      notebooks.push({ path: f.path, pathB: f.pathB, op: f.op, diff: notebookView(f.notebook, a, b) });
    } else {
      files.push({ path: f.path, pathB: f.pathB, kind: f.kind, op: f.op, lines: f.text?.lines, omitted: f.text?.omitted, problem: f.problem });
    }
  }
  const label = (r: { id: string; name: string }) => `${r.name} (${r.id})`;
  return {
    title: `${label(d.a)} ↔ ${label(d.b)}`,
    labels: { a: label(d.a), b: label(d.b) },
    notebooks,
    files,
    runs: { a: d.a, b: d.b, params: d.params, identicalParams: d.identicalParams, metrics: d.metrics },
  };
}
