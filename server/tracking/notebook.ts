/**
 * Headless notebook runs: the notebook is checked here (valid nbformat 4 JSON, or a clear error
 * with the position and nothing written), its `parameters` cell read, and then it executes
 * through a real Jupyter kernel in the chosen interpreter (labbook_nbrun.py: nbclient +
 * ipykernel), with overrides injected after the parameters cell as papermill does.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError } from '../core/errors';
import { locateJsonError } from '../core/jsonPosition';
import type { Store } from '../store/db';
import type { ParamValue } from './params';
import { pythonDir } from './pythonDir';
import { type TrackOptions, type TrackResult, quote, trackRun } from './runner';

export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: { tags?: string[] };
  id?: string;
}

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
}

/** Reads a notebook strictly; JSON errors say where (line:column). */
export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LabbookError('BAD_ARGUMENT', `Cannot read ${file}: ${(e as Error).message}`, { cause: e });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    const at = locateJsonError(text);
    const where = at ? ` at line ${at.line}, column ${at.column}: ${at.reason}` : `: ${(e as Error).message}`;
    throw new LabbookError('BAD_ARGUMENT', `${file} is not valid notebook JSON${where}`);
  }
  const nb = data as Partial<Notebook>;
  if (!nb || typeof nb !== 'object' || !Array.isArray(nb.cells) || typeof nb.nbformat !== 'number') {
    throw new LabbookError('BAD_ARGUMENT', `${file} is not a Jupyter notebook (no nbformat/cells).`);
  }
  if (nb.nbformat !== 4) throw new LabbookError('BAD_ARGUMENT', `${file} is nbformat ${nb.nbformat}; Labbook runs nbformat 4 notebooks (open and save it in Jupyter to upgrade).`);
  return nb as Notebook;
}

const src = (c: NotebookCell) => (Array.isArray(c.source) ? c.source.join('') : c.source);

/** `name = literal` lines of the cell tagged `parameters` (the notebook's defaults). */
export function notebookParameters(nb: Notebook): Map<string, string> {
  const out = new Map<string, string>();
  const cell = nb.cells.find((c) => c.cell_type === 'code' && c.metadata?.tags?.includes('parameters'));
  if (!cell) return out;
  for (const line of src(cell).split('\n')) {
    const m = /^([A-Za-z_]\w*)\s*(?::[^=]+)?=\s*(.+?)\s*(#.*)?$/.exec(line);
    if (m) out.set(m[1], m[2].replace(/^(['"])(.*)\1$/, '$2'));
  }
  return out;
}

/** An override as typed (`-p lr=0.1`) to the value injected: JSON when it parses, else text. */
export function overrideValue(raw: string): unknown {
  if (raw === 'True') return true;
  if (raw === 'False') return false;
  if (raw === 'None') return null;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export interface NotebookRunOptions extends Omit<TrackOptions, 'command' | 'params' | 'code' | 'kind'> {
  notebook: string;
  /** Seconds a single cell may run (default: no limit). */
  cellTimeoutS?: number;
}

export async function trackNotebook(store: Store, o: NotebookRunOptions): Promise<TrackResult> {
  const file = path.resolve(o.cwd ?? o.workspace, o.notebook);
  const nb = readNotebook(file);
  const overrides = o.overrides ?? new Map<string, string>();
  const params = new Map<string, ParamValue>();
  for (const [k, v] of notebookParameters(nb)) params.set(k, { value: v, source: 'notebook-parameters' });
  const injected: Record<string, unknown> = {};
  for (const [k, v] of overrides) {
    injected[k] = overrideValue(v);
    params.set(k, { value: typeof injected[k] === 'string' ? (injected[k] as string) : JSON.stringify(injected[k]), source: 'injected' });
  }
  const python = o.python ?? 'python3';
  const command = [python, path.join(pythonDir(), 'labbook_nbrun.py'), file, path.join('{run_dir}', 'executed.ipynb'), '--params-json', JSON.stringify(injected), '--cwd', path.dirname(file)];
  if (o.cellTimeoutS) command.push('--timeout', String(o.cellTimeoutS));
  const display = ['labbook', 'run', path.relative(o.workspace, file) || file, ...[...overrides].flatMap(([k, v]) => ['-p', `${k}=${v}`])].map(quote).join(' ');
  return trackRun(store, {
    ...o,
    command,
    cwd: path.dirname(file),
    params,
    code: [{ file, kind: 'notebook' }],
    notInputs: [file, fs.realpathSync(file)],
    kind: 'notebook',
    name: o.name ?? path.basename(file, '.ipynb'),
    displayCommand: display,
  });
}
