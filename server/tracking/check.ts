/**
 * Hidden state: what a clean top-to-bottom run would not reproduce. One analysis for a saved
 * notebook (`labbook check`, execution counts from the file) and for a live notebook in VS Code
 * (counts from the editor, plus which cells were edited after they ran):
 * - out-of-order: a cell ran before a cell above it (execution counts go down);
 * - skipped: a cell never ran although cells below it did;
 * - edited-after-run: the cell's source changed since it last ran (live only);
 * - later-definition: a cell reads a name only a later cell defines;
 * - undefined-name: a cell reads a name no cell defines (it came from a deleted or edited cell);
 * - syntax: a cell that does not parse.
 * Names are read statically by the user's interpreter (labbook_names.py); without one, the
 * other checks still run and a warning says so.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { readNotebook } from './notebook';
import { pythonDir } from './pythonDir';

export type ProblemKind = 'out-of-order' | 'skipped' | 'edited-after-run' | 'later-definition' | 'undefined-name' | 'syntax';

export interface Problem {
  /** Index of the cell in the notebook (all cells, markdown included), 0-based. */
  cell: number;
  kind: ProblemKind;
  message: string;
}

export interface CheckResult {
  problems: Problem[];
  warnings: string[];
}

/** A code cell as the analysis needs it. */
export interface CodeCellState {
  index: number;
  source: string;
  executionCount: number | null;
  /** The source changed since the cell last ran (known only in a live editor). */
  editedSinceRun?: boolean;
}

interface CellNames {
  index: number;
  defines: string[];
  uses: string[];
  error: string | null;
}

function namesOf(python: string, cells: CodeCellState[]): Promise<CellNames[]> {
  const nb = JSON.stringify({ cells: cells.map((c) => ({ cell_type: 'code', source: c.source })) });
  return new Promise((resolve, reject) => {
    const child = execFile(python, [path.join(pythonDir(), 'labbook_names.py'), '-'], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(String(stderr).trim().split('\n').pop() || err.message));
      // labbook_names numbers the cells it was given; map back to notebook indices.
      resolve((JSON.parse(String(stdout)) as { cells: CellNames[] }).cells.map((c) => ({ ...c, index: cells[c.index].index })));
    });
    child.stdin?.end(nb);
  });
}

export async function analyzeCells(cells: CodeCellState[], python = 'python3'): Promise<CheckResult> {
  const problems: Problem[] = [];
  const warnings: string[] = [];
  let highest = 0;
  let highestCell = -1;
  cells.forEach((c, k) => {
    const n = c.executionCount;
    if (n === null) {
      if (cells.slice(k + 1).some((x) => x.executionCount !== null)) problems.push({ cell: c.index, kind: 'skipped', message: 'never ran, but cells below it did: a clean run would run it' });
      return;
    }
    if (n < highest) problems.push({ cell: c.index, kind: 'out-of-order', message: `ran as [${n}], before cell ${highestCell} above it ran as [${highest}]` });
    else {
      highest = n;
      highestCell = c.index;
    }
    if (c.editedSinceRun) problems.push({ cell: c.index, kind: 'edited-after-run', message: 'edited after it last ran: its outputs and the names it defined are from older code' });
  });

  try {
    const named = await namesOf(python, cells);
    const definedBy = new Map<string, number[]>();
    for (const c of named) for (const d of c.defines) definedBy.set(d, [...(definedBy.get(d) ?? []), c.index]);
    for (const c of named) {
      if (c.error) {
        problems.push({ cell: c.index, kind: 'syntax', message: c.error });
        continue;
      }
      for (const u of c.uses) {
        const where = definedBy.get(u) ?? [];
        if (where.some((i) => i < c.index)) continue;
        const later = where.filter((i) => i > c.index);
        problems.push(
          later.length
            ? { cell: c.index, kind: 'later-definition', message: `uses '${u}', which only a later cell (${later.join(', ')}) defines` }
            : { cell: c.index, kind: 'undefined-name', message: `uses '${u}', which no cell defines (a deleted or edited cell?)` },
        );
      }
    }
  } catch (e) {
    warnings.push(`names were not checked: ${python} could not read the cells (${(e as Error).message})`);
  }
  problems.sort((a, b) => a.cell - b.cell);
  return { problems, warnings };
}

/** `labbook check`: the analysis on a saved notebook, counts from the file. */
export function checkNotebook(file: string, python = 'python3'): Promise<CheckResult> {
  const nb = readNotebook(file);
  const cells = nb.cells
    .map((c, index) => ({ c, index }))
    .filter(({ c }) => c.cell_type === 'code')
    .map(({ c, index }) => ({
      index,
      source: Array.isArray(c.source) ? c.source.join('') : c.source,
      executionCount: (c as { execution_count?: number | null }).execution_count ?? null,
    }));
  return analyzeCells(cells, python);
}
