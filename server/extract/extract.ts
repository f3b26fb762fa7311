/**
 * `labbook extract` and "Extract Notebook to Pipeline": analyse (user's interpreter, once),
 * propose or take a plan of steps, and write the pipeline's files. Nothing is written when a cell
 * does not parse, and files already in the output folder are replaced only with `force`.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError } from '../core/errors';
import { type Notebook, readNotebook } from '../tracking/notebook';
import { pythonDir } from '../tracking/pythonDir';
import { type Analysis, analyzeNotebook } from './analysis';
import { GENERATED, generateFiles } from './generate';
import { type Pipeline, type SplitMode, type StepPlan, buildPipeline, checkPlan, mergeUnpicklable, proposeSteps } from './plan';

export interface ExtractOptions {
  notebook: string;
  python: string;
  split?: SplitMode;
  /** Steps as the user arranged them (preview); overrides `split`. */
  plan?: StepPlan[];
}

export interface ExtractPreview {
  notebook: string;
  nb: Notebook;
  analysis: Analysis;
  plan: StepPlan[];
  pipeline: Pipeline;
  warnings: string[];
  /** What was translated or dropped, cell by cell ("cell 3: %matplotlib dropped"). */
  notes: string[];
}

/** The JSON contract of `labbook extract --json` (verify added by the caller). */
export interface ExtractJson {
  steps: { name: string; cells: number[]; cellIds: (string | null)[]; inputs: string[]; outputs: string[]; params: string[]; writes: string[] }[];
  params: Record<string, unknown>;
  warnings: string[];
  notes: string[];
  files?: string[];
  out?: string;
}

export async function previewExtraction(o: ExtractOptions): Promise<ExtractPreview> {
  const notebook = path.resolve(o.notebook);
  const nb = readNotebook(notebook);
  const analysis = await analyzeNotebook(nb, o.python, path.dirname(notebook));
  const initial = o.plan ? { plan: o.plan, warnings: [] } : proposeSteps(nb, analysis, o.split ?? 'headings');
  checkPlan(initial.plan, analysis);
  const merged = mergeUnpicklable(analysis, initial.plan);
  const proposed = { plan: merged.plan, warnings: [...initial.warnings, ...merged.warnings] };
  if (!proposed.plan.length) throw new LabbookError('BAD_ARGUMENT', `${path.basename(notebook)} has no code to extract (no code cell has anything left once imports and definitions move to common.py).`);
  const pipeline = buildPipeline(analysis, proposed.plan);
  const inPlan = new Set(proposed.plan.flatMap((s) => s.cells));
  const dropped = analysis.cells.filter((c) => c.body.trim() && !inPlan.has(c.index)).map((c) => c.index);
  const warnings = [...analysis.warnings, ...proposed.warnings, ...pipeline.warnings];
  if (dropped.length) warnings.push(`cells ${dropped.join(', ')} are in no step: their code is left out`);
  const counts = nb.cells.map((c) => (c as { execution_count?: number | null }).execution_count ?? null).filter((n): n is number => n !== null);
  if (counts.some((n, i) => i > 0 && n < counts[i - 1])) warnings.push('the saved notebook ran its cells out of order: the pipeline follows the cells top to bottom, as --verify runs the notebook');
  const notes = analysis.cells.flatMap((c) => c.notes.map((n) => `cell ${c.index}: ${n}`));
  return { notebook, nb, analysis, plan: proposed.plan, pipeline, warnings, notes };
}

export function extractJson(p: ExtractPreview): ExtractJson {
  return {
    steps: p.pipeline.steps.map((s) => ({ name: s.name, cells: s.cells, cellIds: s.cellIds, inputs: Object.keys(s.inputs), outputs: s.outputs, params: s.params, writes: s.writes })),
    params: p.analysis.params,
    warnings: p.warnings,
    notes: p.notes,
  };
}

export function pipelineFiles(p: ExtractPreview, outDir: string): Map<string, string> {
  return generateFiles({ notebook: p.notebook, outDir: path.resolve(outDir), analysis: p.analysis, pipeline: p.pipeline, runner: fs.readFileSync(path.join(pythonDir(), 'labbook_pipeline.py'), 'utf8') });
}

/** Files of `files` already present in outDir. */
export function existingFiles(outDir: string, files: Iterable<string>): string[] {
  return [...files].filter((f) => fs.existsSync(path.join(outDir, f)));
}

/** Writes the pipeline; refuses (writing nothing) when files exist and force is not set. */
export function writePipeline(p: ExtractPreview, outDir: string, force = false): string[] {
  const dir = path.resolve(outDir);
  const files = pipelineFiles(p, dir);
  const clash = existingFiles(dir, files.keys());
  if (clash.length && !force) {
    throw new LabbookError('OUTPUT_EXISTS', `${dir} already has ${clash.slice(0, 4).join(', ')}${clash.length > 4 ? ` and ${clash.length - 4} more` : ''}: nothing written (use --force to replace them).`);
  }
  if (path.resolve(dir) === path.dirname(p.notebook) && files.has(path.basename(p.notebook))) throw new LabbookError('BAD_ARGUMENT', 'the output would replace the notebook itself');
  fs.mkdirSync(path.join(dir, 'steps'), { recursive: true });
  // Step modules of an earlier extraction that this one does not have would linger as dead code.
  for (const f of fs.readdirSync(path.join(dir, 'steps'))) {
    const full = path.join(dir, 'steps', f);
    if (f.endsWith('.py') && !files.has(`steps/${f}`) && fs.readFileSync(full, 'utf8').slice(0, 200).includes(GENERATED)) fs.rmSync(full);
  }
  for (const [rel, text] of files) {
    const target = path.join(dir, rel);
    const tmp = `${target}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, target);
  }
  return [...files.keys()];
}
