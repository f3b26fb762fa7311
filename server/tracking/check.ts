/**
 * Hidden state in a saved notebook: what a top-to-bottom re-run would not reproduce.
 * - out-of-order: a cell ran before a cell above it (execution counts go down);
 * - skipped: a cell never ran although cells below it did;
 * - later-definition: a cell reads a name only a later cell defines;
 * - undefined-name: a cell reads a name no cell defines (it came from a deleted or edited cell);
 * - syntax: a cell that does not parse.
 * Names are read statically by the user's interpreter (labbook_names.py); without one, only
 * the execution-count checks run and a warning says so.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { readNotebook } from './notebook';
import { pythonDir } from './pythonDir';

export type ProblemKind = 'out-of-order' | 'skipped' | 'later-definition' | 'undefined-name' | 'syntax';

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

interface CellNames {
  index: number;
  defines: string[];
  uses: string[];
  error: string | null;
}

function namesOf(python: string, file: string): Promise<CellNames[]> {
  return new Promise((resolve, reject) => {
    execFile(python, [path.join(pythonDir(), 'labbook_names.py'), file], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(String(stderr).trim().split('\n').pop() || err.message));
      resolve((JSON.parse(String(stdout)) as { cells: CellNames[] }).cells);
    });
  });
}

export async function checkNotebook(file: string, python = 'python3'): Promise<CheckResult> {
  const nb = readNotebook(file);
  const problems: Problem[] = [];
  const warnings: string[] = [];
  const code = nb.cells.map((c, index) => ({ c, index })).filter(({ c }) => c.cell_type === 'code');
  const counts = code.map(({ c }) => (c as { execution_count?: number | null }).execution_count ?? null);

  let highest = 0;
  let highestCell = -1;
  code.forEach(({ index }, k) => {
    const n = counts[k];
    if (n === null) {
      if (counts.slice(k + 1).some((x) => x !== null)) problems.push({ cell: index, kind: 'skipped', message: 'never ran, but cells below it did: a clean run would run it' });
      return;
    }
    if (n < highest) problems.push({ cell: index, kind: 'out-of-order', message: `ran as [${n}], before cell ${highestCell} above it ran as [${highest}]` });
    else {
      highest = n;
      highestCell = index;
    }
  });

  try {
    const cells = await namesOf(python, file);
    const definedBy = new Map<string, number[]>();
    for (const c of cells) for (const d of c.defines) definedBy.set(d, [...(definedBy.get(d) ?? []), c.index]);
    for (const c of cells) {
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
    warnings.push(`names were not checked: ${python} could not read the notebook (${(e as Error).message})`);
  }
  problems.sort((a, b) => a.cell - b.cell);
  return { problems, warnings };
}
