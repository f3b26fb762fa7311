/**
 * From analysed cells to steps: where the notebook splits (markdown headings, `step:<name>` cell
 * tags, or one step per cell), and what flows between the steps — each step's inputs are the
 * notebook variables it reads (or changes in place) that an earlier step produced; its outputs
 * are what later steps read, plus the final value of every variable it is the last to set.
 * Pure: no files, no processes.
 */
import { LabbookError } from '../core/errors';
import type { Notebook } from '../tracking/notebook';
import type { Analysis, CellAnalysis } from './analysis';

export const SPLIT_MODES = ['headings', 'tags', 'cells'] as const;
export type SplitMode = (typeof SPLIT_MODES)[number];

/** A step as the user plans it: a name and the notebook cells (indices) it takes. */
export interface StepPlan {
  name: string;
  cells: number[];
}

export interface Step {
  name: string;
  /** Code cells (notebook indices) in this step, in order. */
  cells: number[];
  cellIds: (string | null)[];
  /** Input name → the step that produces it. */
  inputs: Record<string, string>;
  /** Everything the step returns (JSON contract `outputs`). */
  outputs: string[];
  /** Outputs a later step reads: they must be kept. */
  needed: string[];
  params: string[];
  /** Data files the step reads / writes (relative to the notebook's folder), when written as literals. */
  reads: string[];
  writes: string[];
}

export interface Pipeline {
  steps: Step[];
  /** Cells whose code all went elsewhere (imports, definitions, display) or was dropped. */
  emptyCells: number[];
  warnings: string[];
}

const KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case'.split(' '),
);
const RESERVED = new Set(['common', 'pipeline', 'steps', 'params', 'main']);

/** Names common.py defines: the notebook's functions and classes, and what its import blocks bind. */
export function commonNames(analysis: Analysis): string[] {
  return [...analysis.defs.map((d) => d.name), ...(analysis.commonBlocks ?? []).flatMap((b) => b.names)];
}

export function isStepName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name) && !RESERVED.has(name);
}

/** A heading's text as a step name: `## 2. Load the data!` → `load_the_data`. */
export function slug(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/<[^>]*>/g, '')
    .replace(/[`*_[\]()]/g, ' ')
    .replace(/^[\s\d.:)-]+/, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .split('_')
    .slice(0, 5)
    .join('_');
  return s;
}

function uniqueName(base: string, taken: Set<string>, avoid: Set<string>): string {
  let name = base && /^[a-z_]/.test(base) ? base : `step_${base}`;
  if (!isStepName(name) || avoid.has(name)) name = `${name}_step`;
  let n = 2;
  let candidate = name;
  while (taken.has(candidate) || avoid.has(candidate)) candidate = `${name}_${n++}`;
  taken.add(candidate);
  return candidate;
}

const src = (nb: Notebook, i: number) => {
  const s = nb.cells[i].source;
  return Array.isArray(s) ? s.join('') : s ?? '';
};

function headingOf(nb: Notebook, i: number): { level: number; text: string } | null {
  if (nb.cells[i].cell_type !== 'markdown') return null;
  let best: { level: number; text: string } | null = null;
  let fenced = false;
  for (const line of src(nb, i).split('\n')) {
    if (/^\s*```/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^(#{1,6})\s+(.+?)\s*#*\s*$/.exec(line);
    if (m && (!best || m[1].length < best.level)) best = { level: m[1].length, text: m[2] };
  }
  return best;
}

/** Steps proposed for a split mode. Cells with no code left (imports only, …) join no step. */
export function proposeSteps(nb: Notebook, analysis: Analysis, mode: SplitMode): { plan: StepPlan[]; warnings: string[] } {
  const code = new Map(analysis.cells.map((c) => [c.index, c]));
  const hasCode = (i: number) => !!code.get(i)?.body.trim();
  const avoid = new Set([...Object.keys(analysis.imports), ...commonNames(analysis)]);
  const warnings: string[] = [];
  const groups: { title: string; cells: number[] }[] = [];
  const open = (title: string) => groups.push({ title, cells: [] });
  const add = (i: number) => {
    if (!groups.length) open('setup');
    groups[groups.length - 1].cells.push(i);
  };
  if (mode === 'cells') {
    for (const c of analysis.cells) if (hasCode(c.index)) groups.push({ title: `cell_${c.index}`, cells: [c.index] });
  } else if (mode === 'tags') {
    let tagged = false;
    for (let i = 0; i < nb.cells.length; i++) {
      const tag = (nb.cells[i].metadata?.tags ?? []).find((t) => t.startsWith('step:'));
      if (tag && (groups.length === 0 || groups[groups.length - 1].title !== tag.slice(5))) {
        open(tag.slice(5));
        tagged = true;
      }
      if (hasCode(i)) add(i);
    }
    if (!tagged) warnings.push("no cell has a 'step:<name>' tag: the whole notebook is one step");
  } else {
    const headings = nb.cells.map((_, i) => headingOf(nb, i));
    const levels = [...new Set(headings.filter((h): h is { level: number; text: string } => !!h).map((h) => h.level))].sort();
    // The shallowest heading level that gives at least 3 steps with code, else the one giving most.
    const count = (level: number) => {
      let n = 0;
      let pending = true;
      for (let i = 0; i < nb.cells.length; i++) {
        const h = headings[i];
        if (h && h.level <= level) pending = true;
        if (hasCode(i) && pending) {
          n++;
          pending = false;
        }
      }
      return n;
    };
    let level = levels.find((l) => count(l) >= 3 && count(l) <= 40) ?? levels.reduce((a, l) => (count(l) > count(a) ? l : a), levels[0] ?? 0);
    if (!levels.length && nb.cells.some((c) => c.metadata?.tags?.some((t) => t.startsWith('step:')))) return proposeSteps(nb, analysis, 'tags');
    if (!levels.length) {
      warnings.push('the notebook has no markdown headings: one step per code cell (use --split tags with step:<name> tags to group cells)');
      return { plan: proposeSteps(nb, analysis, 'cells').plan, warnings };
    }
    if (!level) level = 1;
    for (let i = 0; i < nb.cells.length; i++) {
      const h = headings[i];
      if (h && h.level <= level) {
        if (groups.length && groups[groups.length - 1].cells.length === 0) groups[groups.length - 1].title = h.text;
        else open(h.text);
      }
      if (hasCode(i)) add(i);
    }
  }
  // A group that is only the `parameters` cell is named for it, not for the title above it.
  for (const g of groups) if (g.cells.length === 1 && nb.cells[g.cells[0]].metadata?.tags?.includes('parameters')) g.title = 'parameters';
  const taken = new Set<string>();
  const plan = groups.filter((g) => g.cells.length).map((g) => ({ name: uniqueName(slug(g.title) || 'step', taken, avoid), cells: g.cells }));
  return { plan, warnings };
}

/** Checks a user-edited plan: names valid and unique, each cell once, cells in notebook order. */
export function checkPlan(plan: readonly StepPlan[], analysis: Analysis): void {
  const names = new Set<string>();
  const seen = new Set<number>();
  const known = new Set(analysis.cells.map((c) => c.index));
  const avoid = new Set([...Object.keys(analysis.imports), ...commonNames(analysis)]);
  let last = -1;
  for (const s of plan) {
    if (!isStepName(s.name)) throw new LabbookError('BAD_ARGUMENT', `'${s.name}' cannot name a step: use letters, digits and _ (not starting with a digit, not a Python keyword, not common/pipeline/steps/params/main)`);
    if (avoid.has(s.name)) throw new LabbookError('BAD_ARGUMENT', `'${s.name}' cannot name a step: the notebook already uses that name for an import or a function`);
    if (names.has(s.name)) throw new LabbookError('BAD_ARGUMENT', `two steps are named '${s.name}'`);
    names.add(s.name);
    if (!s.cells.length) throw new LabbookError('BAD_ARGUMENT', `step '${s.name}' has no cells`);
    for (const c of s.cells) {
      if (!known.has(c)) throw new LabbookError('BAD_ARGUMENT', `step '${s.name}': cell ${c} is not a code cell of the notebook`);
      if (seen.has(c)) throw new LabbookError('BAD_ARGUMENT', `cell ${c} is in more than one step`);
      if (c < last) throw new LabbookError('BAD_ARGUMENT', `step '${s.name}': cell ${c} comes before a cell of an earlier step (steps keep the notebook's order)`);
      seen.add(c);
      last = c;
    }
  }
}

/**
 * The plan with every step that would receive a generator or an open file (which cannot be saved
 * between steps) merged into the step that makes it, and why.
 */
export function mergeUnpicklable(analysis: Analysis, plan: readonly StepPlan[]): { plan: StepPlan[]; warnings: string[] } {
  const warnings: string[] = [];
  let current = plan.map((s) => ({ name: s.name, cells: [...s.cells] }));
  const bad = new Set(analysis.cells.flatMap((c) => c.unpicklable ?? []));
  if (!bad.size) return { plan: current, warnings };
  for (let guard = 0; guard < plan.length; guard++) {
    const pipeline = buildPipeline(analysis, current);
    const i = pipeline.steps.findIndex((s) => Object.entries(s.inputs).some(([n]) => bad.has(n)));
    if (i < 0) break;
    const step = pipeline.steps[i];
    const [name, from] = Object.entries(step.inputs).find(([n]) => bad.has(n))!;
    const j = current.findIndex((s) => s.name === from);
    const merged = { name: current[j].name, cells: current.slice(j, i + 1).flatMap((s) => s.cells) };
    warnings.push(`steps ${current.slice(j, i + 1).map((s) => s.name).join(', ')} merged into one: '${name}' is a generator or an open file, which cannot pass between steps`);
    current = [...current.slice(0, j), merged, ...current.slice(i + 1)];
  }
  return { plan: current, warnings };
}

/** Inputs, outputs and order of the planned steps. */
export function buildPipeline(analysis: Analysis, plan: readonly StepPlan[]): Pipeline {
  checkPlan(plan, analysis);
  const byIndex = new Map(analysis.cells.map((c) => [c.index, c]));
  const notData = new Set([...Object.keys(analysis.imports), ...commonNames(analysis), analysis.paramsName, '_common']);
  const allDefined = new Set(analysis.cells.flatMap((c) => c.defines));
  const isData = (n: string) => !notData.has(n) && allDefined.has(n);
  const producer = new Map<string, Step>();
  const groups = new Map<string, Set<string>>();
  const aliasesOf = (n: string) => groups.get(n) ?? new Set([n]);
  const detach = (n: string) => {
    groups.get(n)?.delete(n);
    groups.delete(n);
  };
  const join = (a: string, b: string) => {
    detach(a);
    const g = groups.get(b) ?? new Set([b]);
    g.add(a);
    groups.set(b, g);
    groups.set(a, g);
  };
  const warnings: string[] = [];
  const steps: Step[] = [];
  const inPlan = new Set(plan.flatMap((s) => s.cells));
  for (const p of plan) {
    const cells = p.cells.map((i) => byIndex.get(i)!) as CellAnalysis[];
    const step: Step = { name: p.name, cells: [...p.cells], cellIds: cells.map((c) => c.id), inputs: {}, outputs: [], needed: [], params: [], reads: [], writes: [] };
    const local = new Set<string>();
    for (const c of cells) {
      // Changing an object in place changes it under every name that holds it (X = df; df.dropna(inplace=True)).
      const mutated = [...new Set(c.mutates.flatMap((m) => [...aliasesOf(m)].filter((n) => n === m || local.has(n) || producer.has(n))))];
      for (const u of [...c.uses, ...mutated]) {
        if (local.has(u) || !isData(u) || u in step.inputs) continue;
        const from = producer.get(u);
        if (from) {
          step.inputs[u] = from.name;
          if (!from.needed.includes(u)) from.needed.push(u);
        } else if (c.uses.includes(u)) {
          warnings.push(`step ${p.name} (cell ${c.index}) reads '${u}', which no earlier cell defines: the pipeline will fail there as a clean notebook run would`);
        }
      }
      for (const d of [...c.defines, ...mutated]) if (isData(d)) local.add(d);
      for (const d of c.defines) detach(d);
      for (const [a, b] of c.aliases ?? []) if (isData(a) && isData(b)) join(a, b);
      for (const x of c.deletes ?? []) {
        local.delete(x);
        producer.delete(x);
        detach(x);
      }
      step.params.push(...c.paramKeys.filter((k) => !step.params.includes(k)));
      step.reads.push(...c.reads.filter((r) => !step.reads.includes(r)));
      step.writes.push(...c.writes.filter((w) => !step.writes.includes(w)));
    }
    for (const d of local) producer.set(d, step);
    steps.push(step);
  }
  for (const s of steps) s.needed.sort((a, b) => a.localeCompare(b));
  // Outputs: what later steps need, and each variable's final value (what verify compares).
  for (const s of steps) {
    // Names starting with _ are throwaways (and our own, like %%writefile's file handle).
    const finals = [...producer].filter(([n, st]) => st === s && !n.startsWith('_')).map(([n]) => n);
    s.outputs = [...new Set([...s.needed, ...finals])];
  }
  const emptyCells = analysis.cells.filter((c) => !inPlan.has(c.index)).map((c) => c.index);
  return { steps, emptyCells, warnings };
}
