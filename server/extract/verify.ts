/**
 * Runs an extracted pipeline as a tracked pipeline run (one child run per step, each step its own
 * process: `python pipeline.py --step NAME`), and `--verify`: the pipeline, then the notebook top
 * to bottom in a real kernel (tracked) with a check after each step's last cell comparing the
 * notebook's variables with that step's outputs (labbook_verify.py), and the step's printed
 * output with what the notebook's cells printed.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Store } from '../store/db';
import { type Notebook, type NotebookCell, readNotebook } from '../tracking/notebook';
import { pythonDir } from '../tracking/pythonDir';
import { quote, trackRun } from '../tracking/runner';
import type { Step } from './plan';

export interface StepVerdict {
  name: string;
  ok: boolean;
  detail: string;
}

export interface VerifyResult {
  ok: boolean;
  steps: StepVerdict[];
  /** The notebook ran top to bottom without an error. */
  notebookOk: boolean;
  pipelineOk: boolean;
  pipelineRun: string;
  notebookRun: string;
}

export interface PipelineRunOptions {
  workspace: string;
  outDir: string;
  python: string;
  /** Run every step even when nothing changed. */
  force?: boolean;
  onProgress?: (message: string) => void;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
}

export interface PipelineRunResult {
  runId: string;
  ok: boolean;
  /** Per step: finished | skipped (unchanged) | failed | crashed | not run (an earlier step failed). */
  steps: { name: string; runId: string | null; status: string; stderrTail: string }[];
}

/** The pipeline as a tracked run with one child run per step, in the order pipeline.yaml gives. */
export async function trackPipeline(store: Store, o: PipelineRunOptions): Promise<PipelineRunResult> {
  const dir = path.resolve(o.outDir);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'pipeline.yaml'), 'utf8')) as { notebook: string; steps: { name: string; module: string }[] };
  const runner = path.join(dir, 'pipeline.py');
  const parent = store.createRun({ name: `${path.basename(cfg.notebook, '.ipynb')} pipeline`, kind: 'pipeline', command: [o.python, 'pipeline.py'].map(quote).join(' '), cwd: dir, pid: process.pid });
  const steps: PipelineRunResult['steps'] = [];
  let ok = true;
  try {
    for (const s of cfg.steps) {
      if (!ok) {
        steps.push({ name: s.name, runId: null, status: 'not run', stderrTail: '' });
        continue;
      }
      o.onProgress?.(`step ${s.name}`);
      let stderr = '';
      const result = await trackRun(store, {
        workspace: o.workspace,
        command: [o.python, runner, '--step', s.name, ...(o.force ? ['--force'] : [])],
        cwd: dir,
        python: o.python,
        kind: 'step',
        name: s.name,
        parentId: parent.id,
        params: new Map(),
        code: [path.join(dir, s.module), path.join(dir, 'common.py')].filter((f) => fs.existsSync(f)).map((file) => ({ file, kind: 'script' as const })),
        notInputs: [runner, path.join(dir, 'pipeline.yaml'), path.join(dir, 'params.yaml')],
        displayCommand: ['python', 'pipeline.py', '--step', s.name].join(' '),
        onOutput: (stream, text) => {
          if (stream === 'stderr') stderr = (stderr + text).slice(-4000);
          o.onOutput?.(stream, text);
        },
      });
      // The runner skips a step whose code, parameters and inputs are unchanged: its run says so.
      const skipped = result.run.status === 'finished' && stderr.includes(`[pipeline] ${s.name}: unchanged, skipped`);
      if (skipped) store.addTag(result.run.id, 'skipped');
      steps.push({ name: s.name, runId: result.run.id, status: skipped ? 'skipped' : result.run.status, stderrTail: stderr });
      if (result.run.status !== 'finished') ok = false;
    }
  } finally {
    store.endRun(parent.id, ok ? 'finished' : 'failed', ok ? 0 : 1);
  }
  return { runId: parent.id, ok, steps };
}

// What IPython's %time/%timeit print, which the pipeline (running the code once, untimed) does not.
const STREAM_NOISE = /^(CPU times:|Wall time:|[\d.]+ \S+ ± [\d.]+ \S+ per loop \(mean|[\d.]+ \S+ per loop \(mean)/;

function normalizeOutput(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .filter((l) => !STREAM_NOISE.test(l))
    // %%writefile says Writing or Overwriting depending on who wrote the file first (verify runs the pipeline first).
    .map((l) => l.replace(/^Overwriting /, 'Writing '))
    .join('\n')
    .trim();
}

function printed(cell: NotebookCell & { outputs?: { output_type: string; name?: string; text?: string | string[] }[] }): string {
  return (cell.outputs ?? [])
    .filter((out) => out.output_type === 'stream' && out.name === 'stdout')
    .map((out) => (Array.isArray(out.text) ? out.text.join('') : out.text ?? ''))
    .join('');
}

function firstLineDiff(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `printed output differs at line ${i + 1}: notebook ${JSON.stringify((la[i] ?? '<end>').slice(0, 80))}, pipeline ${JSON.stringify((lb[i] ?? '<end>').slice(0, 80))}`;
  }
  return 'printed output differs';
}

export interface VerifyOptions extends PipelineRunOptions {
  notebook: string;
  steps: Step[];
}

/** The notebook, with a check cell after each step's last cell. Returns it and where each original cell went. */
function verifyNotebook(nb: Notebook, steps: Step[], dir: string): { nb: Notebook; position: Map<number, number> } {
  const lastCell = new Map(steps.map((s) => [s.cells[s.cells.length - 1], s]));
  const cells: NotebookCell[] = [];
  const position = new Map<number, number>();
  const withIds = nb.nbformat_minor >= 5;
  nb.cells.forEach((c, i) => {
    position.set(i, cells.length);
    cells.push(c);
    const step = lastCell.get(i);
    if (!step) return;
    const values = step.outputs.map((n) => `${JSON.stringify(n)}: globals().get(${JSON.stringify(n)}, __import__("labbook_verify").MISSING)`).join(', ');
    const source = `__import__("labbook_verify").check(${JSON.stringify(dir)}, ${JSON.stringify(step.name)}, {${values}})\n`;
    const cell = { cell_type: 'code', source, metadata: { tags: ['labbook-verify'] }, execution_count: null, outputs: [] } as NotebookCell & Record<string, unknown>;
    if (withIds) cell.id = `labbook-verify-${i}`;
    cells.push(cell);
  });
  return { nb: { ...nb, cells }, position };
}

export async function verifyPipeline(store: Store, o: VerifyOptions): Promise<VerifyResult> {
  const dir = path.resolve(o.outDir);
  const state = path.join(dir, '.pipeline');
  fs.mkdirSync(state, { recursive: true });
  const verdictFile = path.join(state, 'verify.jsonl');
  fs.rmSync(verdictFile, { force: true });

  o.onProgress?.('running the pipeline (tracked, one child run per step)');
  const pipe = await trackPipeline(store, { ...o, force: true });

  o.onProgress?.('running the notebook top to bottom (tracked) with a check after each step');
  const nb = readNotebook(o.notebook);
  const { nb: checked, position } = verifyNotebook(nb, o.steps, dir);
  const checkedFile = path.join(state, 'verify.ipynb');
  fs.writeFileSync(checkedFile, JSON.stringify(checked, null, 1));
  const nbDir = path.dirname(path.resolve(o.notebook));
  const nbRun = await trackRun(store, {
    workspace: o.workspace,
    command: [o.python, path.join(pythonDir(), 'labbook_nbrun.py'), checkedFile, path.join('{run_dir}', 'executed.ipynb'), '--cwd', nbDir],
    cwd: nbDir,
    python: o.python,
    kind: 'notebook',
    name: `${path.basename(o.notebook, '.ipynb')} (verify)`,
    params: new Map(),
    code: [{ file: path.resolve(o.notebook), kind: 'notebook' }],
    notInputs: [checkedFile, path.resolve(o.notebook)],
    displayCommand: ['labbook', 'run', path.relative(o.workspace, o.notebook) || o.notebook].map(quote).join(' '),
    onOutput: o.onOutput,
  });
  const executedFile = path.join(store.paths.dir, 'runs', nbRun.run.id, 'executed.ipynb');
  const executed = fs.existsSync(executedFile) ? (JSON.parse(fs.readFileSync(executedFile, 'utf8')) as Notebook) : null;
  let failedAt: number | null = null;
  if (executed) {
    executed.cells.forEach((c, i) => {
      const outs = (c as { outputs?: { output_type: string }[] }).outputs ?? [];
      if (failedAt === null && outs.some((x) => x.output_type === 'error')) failedAt = i;
    });
  }
  const originalOf = new Map([...position].map(([orig, pos]) => [pos, orig]));
  const records = new Map<string, { name: string; ok: boolean; detail: string; skipped?: boolean }[]>();
  if (fs.existsSync(verdictFile)) {
    for (const line of fs.readFileSync(verdictFile, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { step: string; values: { name: string; ok: boolean; detail: string; skipped?: boolean }[] };
      records.set(r.step, r.values);
    }
  }
  const steps: StepVerdict[] = o.steps.map((s) => {
    const ps = pipe.steps.find((x) => x.name === s.name);
    if (!ps || (ps.status !== 'finished' && ps.status !== 'skipped')) {
      const why = ps?.status === 'not run' ? 'not run: an earlier step failed' : `the step failed in the pipeline: ${ps?.stderrTail.trim().split('\n').pop() ?? 'unknown'}`;
      return { name: s.name, ok: false, detail: why };
    }
    const values = records.get(s.name);
    if (!values) {
      const at = failedAt !== null ? originalOf.get(failedAt) : undefined;
      return { name: s.name, ok: false, detail: at !== undefined ? `the notebook failed at cell ${at} before this step's end` : 'the notebook did not reach the end of this step' };
    }
    const bad = values.filter((v) => !v.ok);
    const compared = values.filter((v) => !v.skipped).length;
    const problems = bad.map((v) => `${v.name}: ${v.detail}`);
    if (executed) {
      const nbText = normalizeOutput(s.cells.map((c) => printed(executed.cells[position.get(c)!] as NotebookCell)).join(''));
      const stdoutFile = path.join(state, s.name, 'stdout.txt');
      const pipeText = normalizeOutput(fs.existsSync(stdoutFile) ? fs.readFileSync(stdoutFile, 'utf8') : '');
      if (nbText !== pipeText) problems.push(firstLineDiff(nbText, pipeText));
    }
    if (problems.length) return { name: s.name, ok: false, detail: problems.join('; ') };
    const skipped = values.filter((v) => v.skipped).map((v) => v.name);
    return { name: s.name, ok: true, detail: `${compared} value(s) equal, printed output equal${skipped.length ? `; not compared: ${skipped.join(', ')}` : ''}` };
  });
  return {
    ok: steps.every((s) => s.ok),
    steps,
    notebookOk: nbRun.run.status === 'finished',
    pipelineOk: pipe.ok,
    pipelineRun: pipe.runId,
    notebookRun: nbRun.run.id,
  };
}
