/**
 * Static analysis of a notebook for extraction, done by the user's own interpreter
 * (labbook_extract.py: ast + symtable, so the grammar is the one their code runs under), started
 * once per extraction. Cells that do not parse are refused here, with the cell and the message.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { LabbookError } from '../core/errors';
import type { Notebook } from '../tracking/notebook';
import { pythonDir } from '../tracking/pythonDir';

export interface CellAnalysis {
  /** Index of the cell in the notebook (all cells counted), 0-based. */
  index: number;
  id: string | null;
  /** The cell's top-level code as it goes into a step: magics translated, imports and definitions taken out. */
  body: string;
  defines: string[];
  /** Names read before the cell binds them (modules and functions included). */
  uses: string[];
  /** Names the cell may change in place (df.dropna(inplace=True), df['x'] = …, lst.append). */
  mutates: string[];
  /** 1-based lines of body inside a multi-line string (kept unindented). */
  verbatim: number[];
  paramKeys: string[];
  /** Names `del`eted at the top level. */
  deletes: string[];
  /** Names bound to generators or open files: they cannot pass between steps. */
  unpicklable?: string[];
  /** `a = b` assignments, as [a, b]: both names then hold one object. */
  aliases: [string, string][];
  reads: string[];
  writes: string[];
  notes: string[];
}

export interface Definition {
  name: string;
  cell: number;
  source: string;
  /** Notebook variables the function reads (directly or through another definition). */
  globals: string[];
}

export interface Analysis {
  python: string;
  cells: CellAnalysis[];
  /** Bound name → the import statement that binds it. */
  imports: Record<string, string>;
  defs: Definition[];
  commonImports: string[];
  /** Top-level `try:`/`if` blocks that import (optional dependencies), moved to common.py as they are. */
  commonBlocks: { cell: number; source: string; names: string[] }[];
  commonGlobals: string[];
  keptStars: string[];
  params: Record<string, unknown>;
  paramsName: string;
  requirements: string[];
  settings: string[];
  warnings: string[];
}

export interface AnalysisInputCell {
  index: number;
  id: string | null;
  cell_type: string;
  source: string;
  tags: string[];
}

export function notebookCells(nb: Notebook): AnalysisInputCell[] {
  return nb.cells.map((c, index) => ({
    index,
    id: typeof c.id === 'string' ? c.id : null,
    cell_type: c.cell_type,
    source: Array.isArray(c.source) ? c.source.join('') : c.source ?? '',
    tags: c.metadata?.tags ?? [],
  }));
}

export function analyzeNotebook(nb: Notebook, python: string, cwd: string): Promise<Analysis> {
  const input = JSON.stringify({ cells: notebookCells(nb) });
  return new Promise((resolve, reject) => {
    const child = execFile(
      python,
      [path.join(pythonDir(), 'labbook_extract.py'), '--cwd', cwd],
      { maxBuffer: 256 * 1024 * 1024, timeout: 120_000, cwd, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
      (err, stdout, stderr) => {
        if (err) {
          const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${python} not found` : String(stderr).trim().split('\n').pop() || err.message;
          return reject(new LabbookError('BAD_ARGUMENT', `The notebook could not be analysed with ${python}: ${why} (set labbook.python.path, or --python / LABBOOK_PYTHON)`, { cause: err }));
        }
        const out = JSON.parse(String(stdout)) as Analysis & { errors?: { cell: number; message: string }[] };
        if (out.errors?.length) {
          const list = out.errors.map((e) => `cell ${e.cell}: ${e.message}`).join('; ');
          return reject(new LabbookError('CELL_SYNTAX', `Cannot extract: ${out.errors.length} cell(s) do not parse for ${python} — ${list}. Nothing was written.`));
        }
        resolve(out);
      },
    );
    child.stdin?.end(input);
  });
}
