/**
 * The edits the extraction preview offers on a plan of steps (pure, so they are tested without
 * VS Code). Each returns a new plan; the server checks the result (names, cell order) again.
 */
import type { ExtractPlanStep } from '../../server/protocol/requests';

export const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const copy = (plan: readonly ExtractPlanStep[]) => plan.map((s) => ({ name: s.name, cells: [...s.cells] }));

/** Why `name` cannot rename step i, or undefined when it can. */
export function renameProblem(plan: readonly ExtractPlanStep[], i: number, name: string): string | undefined {
  if (!STEP_NAME.test(name)) return 'letters, digits and _, not starting with a digit';
  if (plan.some((s, k) => k !== i && s.name === name)) return 'another step has that name';
  return undefined;
}

export function renameStep(plan: readonly ExtractPlanStep[], i: number, name: string): ExtractPlanStep[] {
  const problem = renameProblem(plan, i, name);
  if (problem) throw new Error(`cannot rename ${plan[i].name} to '${name}': ${problem}`);
  const out = copy(plan);
  out[i].name = name;
  return out;
}

/** Step i takes the cells of step i + 1 and keeps its name. */
export function mergeWithNext(plan: readonly ExtractPlanStep[], i: number): ExtractPlanStep[] {
  if (i < 0 || i + 1 >= plan.length) throw new Error('no next step to merge with');
  const out = copy(plan);
  out[i].cells.push(...out[i + 1].cells);
  out.splice(i + 1, 1);
  return out;
}

/** A new step starts at `cell` (one of step i's cells, not its first), named `<name>_2` (or the next free number). */
export function splitStep(plan: readonly ExtractPlanStep[], i: number, cell: number): ExtractPlanStep[] {
  const k = plan[i]?.cells.indexOf(cell) ?? -1;
  if (k <= 0) throw new Error(`cell ${cell} is not a later cell of step ${plan[i]?.name}`);
  const out = copy(plan);
  const taken = new Set(out.map((s) => s.name));
  let name = `${out[i].name}_2`;
  for (let n = 3; taken.has(name); n++) name = `${out[i].name}_${n}`;
  out.splice(i + 1, 0, { name, cells: out[i].cells.slice(k) });
  out[i].cells = out[i].cells.slice(0, k);
  return out;
}
