/**
 * `labbook` — the command-line twin of the extension. Same core modules as the server, no VS Code.
 * Exit codes: 0 success, 1 handled failure (one line on stderr), 2 bad usage.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError, describeError } from '../core/errors';
import { RUN_SORT_KEYS, RUN_STATUSES, type RunSummary } from '../protocol/dto';
import { Store } from '../store/db';
import { SCHEMA_VERSION } from '../store/migrations';
import { LABBOOK_VERSION } from '../version';
import { type FlagSpec, type Parsed, UsageError, choiceFlag, intFlag, parseArgs } from './args';
import { diffCommand } from './diffCommand';
import { type Style, runDetail, runsTable } from './format';
import { formatDuration, shortHash } from '../core/format';
import { runJson } from '../core/runJson';
import { parseOverride } from '../tracking/params';
import { checkNotebook } from '../tracking/check';
import { rerun } from '../tracking/rerun';
import { trackNotebook } from '../tracking/notebook';
import { trackRun } from '../tracking/runner';
import { VIEW_COMMANDS } from './viewVerbs';
import { TRAIN_COMMANDS } from './trainVerbs';
import { extractJson, previewExtraction, writePipeline } from '../extract/extract';
import { SPLIT_MODES, type StepPlan } from '../extract/plan';
import { trackPipeline, verifyPipeline } from '../extract/verify';

const HELP = `labbook ${LABBOOK_VERSION} — track, compare and reproduce runs of notebooks and scripts

Usage: labbook [--workspace DIR] <command> [options]

Commands:
  run [options] -- COMMAND…
                       run a command (e.g. python train.py --lr 0.01) and record it: parameters,
                       data it reads and writes, environment, code, metrics, output
  run NOTEBOOK.ipynb [options]
                       execute a notebook top to bottom in a Jupyter kernel (nbclient) and record
                       it the same way; -p values are injected after its 'parameters' cell
      -p, --param K=V  override a parameter (repeatable): replaces --K's value, else adds --K V
      --name N         the run's name (default: the script's name)
      --data GLOB      also hash files matching GLOB as declared inputs (repeatable)
      --python PATH    the Python interpreter for python/python3/*.py (default: $LABBOOK_PYTHON, else python3)
  rerun RUN            run RUN again (same command, parameters, interpreter, folder) as its child;
                       warns of data or code that changed since, then says whether it reproduced
      --tolerance X    relative difference allowed in final metric values (default 1e-6)
  check NOTEBOOK       report hidden state in a saved notebook: cells run out of order or skipped,
                       names only a later (or no) cell defines; exit 1 when there is any
      --python PATH    the interpreter whose ast reads the cells (default: $LABBOOK_PYTHON, else python3)
  extract NOTEBOOK --out DIR
                       turn a notebook into a pipeline: steps/<name>.py (one function per step),
                       common.py, params.yaml (lifted parameters), pipeline.py, pipeline.yaml
      --split MODE     headings (default) | tags (cells tagged step:<name>) | cells
      --plan FILE      steps as JSON [{"name","cells":[cell indices]}] instead of --split
      --verify         run the notebook and the pipeline (both tracked) and compare them step
                       by step; exit 1 on a mismatch
      --force          replace files already in DIR
      --python PATH    the interpreter that analyses (and with --verify runs) the code
  runs                 list the runs of the workspace, newest first
      --limit N        at most N runs (default 50; with --json 1000)
      --sort KEY       started | name | status | duration (default started)
      --asc            oldest / smallest first
      --status S       only runs that are running | finished | failed | crashed
      --filter TEXT    only runs matching every term: text, status:S, kind:K, tag:T, KEY=VALUE
      --all            include child runs (pipeline steps)
  show RUN             everything recorded about one run
                       RUN is a run id, a unique id prefix, or a run name (newest wins)
  compare RUN RUN…     parameters that differ, metrics (last / best in each metric's direction),
                       data files and packages that changed between the runs
      --all            every parameter, not only those that differ
  tag RUN TAG…         add tags to a run; -r TAG removes one (repeatable)
  delete RUN… --yes    delete runs (their child runs and workspace files are kept)
  confusion RUN        a run's confusion matrix (evaluation.json or log_confusion_matrix)
      --epoch N        that epoch (default: the last) · --normalized: % of each row
  train --data PATH --model mlp|cnn
                       train a model as a tracked run (params, per-epoch metrics, samples/s,
                       backend), evaluate it on a held-out test split every epoch
                       (evaluation.json: confusion matrices, misclassified examples) and save it
                       under .labbook/models/NAME/VERSION/ with a model card.
                       PATH: a folder of IDX files (MNIST layout), an *-images-idx3-ubyte[.gz]
                       file, a CSV[.gz] with a label column, or a folder of PNG images with one
                       subfolder per class (or train/<class>/ and test/<class>/)
      --epochs N · --batch-size N · --lr X · --seed N · --name NAME · --limit N (train examples)
      --patience N     early stopping: stop after N epochs without a lower val_loss and keep
                       the best epoch's weights (recorded: best_epoch, stopped_early_at_epoch)
      --config FILE    JSON or YAML: data, model, epochs, batchSize, optimizer, learningRate,
                       validationSplit, testFraction, seed, earlyStoppingPatience, hidden
      --backend B      tensorflow-gpu | tensorflow | wasm | cpu (default: the first that works)
  models [NAME]        registered models: NAME@VERSION, stage, test accuracy, run, folder
  evaluate MODEL       accuracy, per-class precision/recall/F1, macro averages and misclassified
                       indices on the held-out test split (MODEL: NAME or NAME@VERSION)
      --data PATH      evaluate on this data's test split instead of the training data's
  deploy               put the newest model in production if its test accuracy ≥ --threshold
                       (default 0.95) and not worse than production's; exit 1 with the reason if not
      --model M        deploy this model (NAME or NAME@VERSION) without the gate, recorded as
                       chosen; a missing or damaged model is still refused
      --force          deploy the newest past the gate (recorded as forced)
  deployments          deployment history, newest first: model, how (gate, forced, chosen,
                       refused, rollback) and the reason
  rollback             restore the model that was in production before the current one
  predict MODEL INPUT… classify CSV rows (label column optional), JSON arrays of raw values,
                       IDX images, PNG files or folders of PNG files; predictions below
                       --min-confidence (0.8) are flagged review. Every prediction is logged
                       for drift checks. --probabilities adds them all
  drift MODEL          logged prediction inputs vs the training profile (KS on per-example mean
                       intensity, PSI on the predicted class mix): drifted or not
  diff A B             cell-by-cell diff of two notebooks: moves, edits (changed words marked),
                       outputs by MIME type (images by size); unchanged cells folded.
                       A and B: notebook files, REV:path (git revision, e.g. HEAD:nb.ipynb), or
                       two runs (their code: notebooks by cell, scripts by line, with parameter
                       and metric differences). Exit 0 whether or not they differ.
      --metadata       also show cell and notebook metadata changes (ignored by default)
      --exec-counts    also show execution-count changes (ignored by default)
      --no-outputs     compare sources only
      --git-driver     take git's external-diff arguments (PATH OLD HEX MODE NEW HEX MODE);
                       see the README for .gitattributes and git difftool set-up

With --json: run prints {"run":{"id","status",…}}, runs {"runs":[…],"total"}, show the run object,
check {"problems":[{"cell","kind","message"}]}, compare {"runs","directions","differences"},
confusion the evaluation (labels, epochs with matrix and per-class metrics, examples),
diff {"summary":{…},"cells":[{"op","a","b",…}]} (runs: {"runs","params","metrics","files"});
train {"run","status","model":"NAME@VERSION","backend","epochs","samplesPerS","test":{"accuracy",
"macro":{"precision","recall","f1"},"perClass","confusion","misclassified"}}, models {"models":[…]},
predict {"model","predictions":[{"input","class","confidence","review"}]}, deploy {"deployed","model","reason",
"how","forced","chosen"}, deployments {"deployments":[{"model","deployedAt","passed","forced","chosen","gate"}]};
extract {"steps":[{"name","cells","inputs","outputs"}],"params","warnings",
"verify":{"ok","steps":[{"name","ok","detail"}]}}; see docs/notebook-diff.md.

Options:
  --workspace DIR      the workspace whose .labbook/ store to use (default: current directory)
  --json               machine-readable output on stdout
  -h, --help           this help
  -V, --version        the version

Exit codes: 0 success · 1 failure (reason on stderr) · 2 bad usage.
`;

const GLOBAL: Record<string, FlagSpec> = {
  workspace: { value: true, alias: 'C' },
  json: {},
  help: { alias: 'h' },
  version: { alias: 'V' },
};

interface Context {
  workspace: string;
  json: boolean;
  style: Style;
  out: (s: string) => void;
  err: (s: string) => void;
}

/** A failure already explained on stderr: exit 1 without another message. */
class HandledFailure extends Error {}

const COMMANDS: Record<string, { flags: Record<string, FlagSpec>; run: (ctx: Context, p: Parsed) => void | Promise<void> }> = {
  ...VIEW_COMMANDS,
  ...TRAIN_COMMANDS,
  run: {
    flags: { param: { value: true, alias: 'p' }, name: { value: true }, data: { value: true }, python: { value: true } },
    async run(ctx, p) {
      const command = [...p.positionals, ...p.rest];
      if (command.length === 0) throw new UsageError("'run' needs a command after -- (e.g. labbook run -- python train.py)");
      if (p.positionals.length > 0 && p.rest.length > 0) throw new UsageError(`put '${p.positionals[0]}' after -- with the rest of the command`);
      const overrides = new Map((p.all.get('param') ?? []).map(parseOverride));
      const store = Store.open(ctx.workspace, { create: true })!;
      const abort = new AbortController();
      // Ctrl-C reaches the child too; we stay to record how it ended.
      const onSigint = () => abort.abort();
      process.on('SIGINT', onSigint);
      process.on('SIGTERM', onSigint);
      try {
        const common = {
          workspace: ctx.workspace,
          cwd: process.cwd(),
          overrides,
          name: p.flags.get('name') as string | undefined,
          data: p.all.get('data'),
          python: (p.flags.get('python') as string | undefined) ?? process.env.LABBOOK_PYTHON ?? 'python3',
          signal: abort.signal,
          // With --json, stdout is for the result only: the command's output goes to stderr.
          onOutput: (stream: 'stdout' | 'stderr', text: string) => (stream === 'stdout' && !ctx.json ? process.stdout : process.stderr).write(text),
          onStarted: (run: RunSummary) => ctx.err(`labbook: run ${run.id} (${run.name}) started`),
        };
        const pipelineDir = extractedPipeline(command, common.cwd);
        if (pipelineDir) {
          // A pipeline Labbook extracted: one pipeline run, each step a child run of its own.
          const r = await trackPipeline(store, {
            workspace: ctx.workspace,
            outDir: pipelineDir,
            python: common.python,
            force: command.includes('--force'),
            onProgress: (m) => ctx.err(`labbook: ${m}`),
            onOutput: common.onOutput,
          });
          const run = store.getRun(r.runId);
          if (ctx.json) ctx.out(JSON.stringify({ run: { id: run.id, name: run.name, status: run.status, exitCode: run.exitCode, durationS: run.durationS }, steps: r.steps.map(({ name, runId, status }) => ({ name, runId, status })) }));
          ctx.err(`labbook: pipeline run ${run.id} ${run.status} (${r.steps.map((s) => `${s.name}: ${s.status}`).join(', ')}) — labbook runs --all`);
          if (!r.ok) throw new HandledFailure();
          return;
        }
        const notebook = command.length === 1 && command[0].endsWith('.ipynb');
        const result = notebook ? await trackNotebook(store, { ...common, notebook: command[0] }) : await trackRun(store, { ...common, command });
        for (const w of result.warnings) ctx.err(`labbook: warning: ${w}`);
        const r = result.run;
        const how = r.status === 'finished' ? 'finished' : r.status === 'failed' ? `failed (exit ${r.exitCode})` : `${r.status} (${result.signal ?? 'killed'})`;
        if (ctx.json) ctx.out(JSON.stringify({ run: { id: r.id, name: r.name, status: r.status, exitCode: r.exitCode, durationS: r.durationS } }));
        ctx.err(`labbook: run ${r.id} ${how} in ${formatDuration(r.durationS)} — labbook show ${r.id}`);
        if (r.status !== 'finished') throw new HandledFailure();
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        store.close();
      }
    },
  },
  rerun: {
    flags: { tolerance: { value: true }, python: { value: true } },
    async run(ctx, p) {
      if (p.positionals.length !== 1) throw new UsageError(`'rerun' needs exactly one RUN (got ${p.positionals.length})`);
      const tol = p.flags.has('tolerance') ? Number(p.flags.get('tolerance')) : undefined;
      if (tol !== undefined && !(tol >= 0)) throw new UsageError(`--tolerance needs a number ≥ 0, got '${p.flags.get('tolerance')}'`);
      const store = Store.open(ctx.workspace, { create: false });
      if (!store) throw new LabbookError('NO_STORE', `${ctx.workspace} has no Labbook store (.labbook/), so there is no run '${p.positionals[0]}'.`);
      try {
        const { result, original, verdict } = await rerun(store, p.positionals[0], {
          tolerance: tol,
          python: p.flags.get('python') as string | undefined,
          onOutput: (stream, text) => (stream === 'stdout' && !ctx.json ? process.stdout : process.stderr).write(text),
          onStarted: (run) => ctx.err(`labbook: re-running ${p.positionals[0]} as run ${run.id}`),
          onChanges: ({ data, code }) => {
            for (const c of data) ctx.err(`labbook: warning: data changed: ${c.path} (${shortHash(c.before)} → ${shortHash(c.after)})`);
            for (const c of code) ctx.err(`labbook: warning: code changed: ${c.path} (${shortHash(c.before)} → ${shortHash(c.after)})`);
          },
        });
        const r = result.run;
        if (ctx.json) ctx.out(JSON.stringify({ run: { id: r.id, status: r.status, exitCode: r.exitCode }, original, verdict }));
        if (verdict.reproduced) ctx.err(`labbook: reproduced: run ${r.id} matches ${original} (${verdict.differences.length} metric differences, tolerance ${verdict.tolerance})`);
        else {
          if (r.status !== 'finished') ctx.err(`labbook: not reproduced: run ${r.id} ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''}`);
          for (const d of verdict.differences) ctx.err(`labbook: not reproduced: ${d.metric} ${d.before} → ${d.after}`);
          throw new HandledFailure();
        }
      } finally {
        store.close();
      }
    },
  },
  check: {
    flags: { python: { value: true } },
    async run(ctx, p) {
      if (p.positionals.length !== 1) throw new UsageError(`'check' needs exactly one NOTEBOOK (got ${p.positionals.length})`);
      const file = path.resolve(p.positionals[0]);
      const r = await checkNotebook(file, (p.flags.get('python') as string | undefined) ?? process.env.LABBOOK_PYTHON ?? 'python3');
      for (const w of r.warnings) ctx.err(`labbook: warning: ${w}`);
      if (ctx.json) ctx.out(JSON.stringify({ problems: r.problems }));
      else if (r.problems.length === 0) ctx.out(`${p.positionals[0]}: no hidden state found`);
      else for (const pr of r.problems) ctx.out(`${p.positionals[0]}: cell ${pr.cell}: ${pr.kind}: ${pr.message}`);
      if (r.problems.length) {
        ctx.err(`labbook: ${r.problems.length} hidden-state problem(s): a top-to-bottom run may not reproduce this notebook`);
        throw new HandledFailure();
      }
    },
  },
  extract: {
    flags: { out: { value: true, alias: 'o' }, split: { value: true }, plan: { value: true }, verify: {}, force: {}, python: { value: true } },
    async run(ctx, p) {
      if (p.positionals.length !== 1) throw new UsageError(`'extract' needs exactly one NOTEBOOK (got ${p.positionals.length})`);
      const out = p.flags.get('out');
      if (typeof out !== 'string') throw new UsageError("'extract' needs --out DIR (the folder to write the pipeline to)");
      const split = choiceFlag(p, 'split', SPLIT_MODES);
      if (split && p.flags.has('plan')) throw new UsageError('give --split or --plan, not both');
      const plan = p.flags.has('plan') ? readPlan(String(p.flags.get('plan'))) : undefined;
      const python = (p.flags.get('python') as string | undefined) ?? process.env.LABBOOK_PYTHON ?? 'python3';
      const preview = await previewExtraction({ notebook: p.positionals[0], python, split, plan });
      const files = writePipeline(preview, path.resolve(out), p.flags.has('force'));
      const json = { ...extractJson(preview), out: path.resolve(out), files };
      for (const w of preview.warnings) ctx.err(`labbook: warning: ${w}`);
      if (!ctx.json) {
        ctx.out(`${preview.pipeline.steps.length} steps written to ${out}:`);
        for (const s of preview.pipeline.steps) {
          const ins = Object.keys(s.inputs);
          ctx.out(`  ${s.name.padEnd(24)} cells ${s.cells.join(',')}${ins.length ? `  in: ${ins.join(', ')}` : ''}${s.outputs.length ? `  out: ${s.outputs.join(', ')}` : ''}`);
        }
        const keys = Object.keys(preview.analysis.params);
        if (keys.length) ctx.out(`  params.yaml: ${keys.join(', ')}`);
        for (const n of preview.notes) ctx.out(`  note: ${n}`);
      }
      if (!p.flags.has('verify')) {
        if (ctx.json) ctx.out(JSON.stringify(json));
        return;
      }
      const store = Store.open(ctx.workspace, { create: true })!;
      try {
        const verdict = await verifyPipeline(store, {
          workspace: ctx.workspace,
          notebook: preview.notebook,
          outDir: path.resolve(out),
          python,
          steps: preview.pipeline.steps,
          onProgress: (m) => ctx.err(`labbook: ${m}`),
        });
        if (ctx.json) ctx.out(JSON.stringify({ ...json, verify: verdict }));
        else for (const s of verdict.steps) ctx.out(`  verify ${s.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${s.detail}`);
        if (!verdict.ok) {
          ctx.err(`labbook: the pipeline does not reproduce the notebook (${verdict.steps.filter((s) => !s.ok).length} step(s) differ)`);
          throw new HandledFailure();
        }
        ctx.err(`labbook: verified: every step matches the notebook (pipeline run ${verdict.pipelineRun}, notebook run ${verdict.notebookRun})`);
      } finally {
        store.close();
      }
    },
  },
  runs: {
    flags: { limit: { value: true }, sort: { value: true }, asc: {}, status: { value: true }, all: {}, filter: { value: true } },
    run(ctx, p) {
      if (p.positionals.length > 0) throw new UsageError(`'runs' takes no arguments (got '${p.positionals[0]}')`);
      const limit = intFlag(p, 'limit', 1) ?? (ctx.json ? 1000 : 50);
      const sort = choiceFlag(p, 'sort', RUN_SORT_KEYS);
      const status = choiceFlag(p, 'status', RUN_STATUSES);
      const store = openForReading(ctx.workspace);
      if (!store) {
        if (ctx.json) ctx.out(JSON.stringify({ runs: [], total: 0 }));
        else ctx.out(`No runs yet: ${ctx.workspace} has no Labbook store (.labbook/).`);
        return;
      }
      try {
        const page = store.listRuns({ limit, sort, order: p.flags.has('asc') ? 'asc' : 'desc', status, topLevel: !p.flags.has('all'), search: p.flags.get('filter') as string | undefined });
        if (ctx.json) {
          ctx.out(JSON.stringify({ runs: page.runs, total: page.total }));
        } else if (page.total === 0) {
          ctx.out(p.flags.has('filter') ? 'No runs match.' : status ? `No ${status} runs.` : 'No runs yet.');
        } else {
          ctx.out(runsTable(page.runs, ctx.style));
          if (page.total > page.runs.length) ctx.out(`… ${page.total - page.runs.length} more (use --limit)`);
        }
      } finally {
        store.close();
      }
    },
  },
  diff: {
    flags: { metadata: {}, 'exec-counts': {}, 'no-outputs': {}, 'git-driver': {} },
    run(ctx, p) {
      const gitDriver = p.flags.has('git-driver');
      // Under git (driver or pager) stdout is a pipe to the pager, which shows colour.
      const style = { color: ctx.style.color || (!ctx.json && !process.env.NO_COLOR && !!process.env.GIT_PAGER_IN_USE) };
      ctx.out(
        diffCommand({
          args: [...p.positionals, ...p.rest],
          gitDriver,
          workspace: ctx.workspace,
          cwd: process.cwd(),
          json: ctx.json,
          style,
          options: { metadata: p.flags.has('metadata'), execCounts: p.flags.has('exec-counts'), outputs: !p.flags.has('no-outputs') },
        }),
      );
    },
  },
  show: {
    flags: {},
    run(ctx, p) {
      if (p.positionals.length !== 1) throw new UsageError(`'show' needs exactly one RUN (got ${p.positionals.length})`);
      const store = openForReading(ctx.workspace);
      if (!store) throw new LabbookError('NO_STORE', `${ctx.workspace} has no Labbook store (.labbook/), so there is no run '${p.positionals[0]}'.`);
      try {
        const run = store.getRun(p.positionals[0]);
        ctx.out(ctx.json ? JSON.stringify(runJson(store, run)) : runDetail(run, ctx.style));
      } finally {
        store.close();
      }
    },
  },
};

/** The folder of a pipeline `labbook extract` wrote, when the command runs its pipeline.py. */
function extractedPipeline(command: string[], cwd: string): string | null {
  const script = command.find((a) => a.endsWith('.py'));
  if (!script || path.basename(script) !== 'pipeline.py' || command.includes('--step') || command.includes('--list')) return null;
  const dir = path.dirname(path.resolve(cwd, script));
  try {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'pipeline.yaml'), 'utf8')) as { generatedBy?: string };
    return typeof cfg.generatedBy === 'string' && cfg.generatedBy.startsWith('labbook') ? dir : null;
  } catch {
    return null;
  }
}

function readPlan(file: string): StepPlan[] {
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LabbookError('BAD_ARGUMENT', `--plan ${file}: ${(e as Error).message}`);
  }
  const steps = (data as { steps?: unknown })?.steps ?? data;
  if (!Array.isArray(steps) || !steps.every((s) => s && typeof s.name === 'string' && Array.isArray(s.cells) && s.cells.every((c: unknown) => Number.isInteger(c)))) {
    throw new LabbookError('BAD_ARGUMENT', `--plan ${file} must be a JSON list of {"name": "...", "cells": [cell indices]}`);
  }
  return steps.map((s) => ({ name: s.name, cells: s.cells }));
}

function openForReading(workspace: string): Store | null {
  const store = Store.open(workspace, { create: false });
  if (store) {
    try {
      store.recoverCrashedRuns();
    } catch (e) {
      // A read-only store can still be listed; its stale statuses are fixed by the next writer.
      if (!(e instanceof LabbookError && e.code === 'NOT_WRITABLE')) throw e;
    }
  }
  return store;
}

export async function main(argv: readonly string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const verbIndex = findVerb(argv);
  const verb = verbIndex >= 0 ? argv[verbIndex] : undefined;
  try {
    const command = verb ? COMMANDS[verb] : undefined;
    if (verb && !command) throw new UsageError(`unknown command '${verb}'`);
    const p = parseArgs(verbIndex >= 0 ? [...argv.slice(0, verbIndex), ...argv.slice(verbIndex + 1)] : argv, { ...GLOBAL, ...command?.flags });
    if (p.flags.has('help')) {
      io.stdout.write(HELP);
      return 0;
    }
    if (p.flags.has('version')) {
      io.stdout.write(`labbook ${LABBOOK_VERSION} (store schema v${SCHEMA_VERSION}, node ${process.version})\n`);
      return 0;
    }
    if (!command) throw new UsageError('no command given');
    const ws = path.resolve(String(p.flags.get('workspace') ?? process.cwd()));
    if (!fs.existsSync(ws) || !fs.statSync(ws).isDirectory()) throw new LabbookError('BAD_ARGUMENT', `workspace ${ws} is not a directory`);
    const style = { color: !!(io.stdout as NodeJS.WriteStream).isTTY && !process.env.NO_COLOR && !p.flags.has('json') };
    await command.run({ workspace: ws, json: p.flags.has('json'), style, out: (s) => io.stdout.write(s + '\n'), err: (s) => io.stderr.write(s + '\n') }, p);
    return 0;
  } catch (e) {
    if (e instanceof HandledFailure) return 1;
    if (e instanceof UsageError) {
      io.stderr.write(`labbook: ${e.message}\nRun 'labbook --help' for usage.\n`);
      return 2;
    }
    if (e instanceof LabbookError) {
      io.stderr.write(`labbook: ${e.message}\n`);
      return 1;
    }
    io.stderr.write(`labbook: unexpected error: ${describeError(e)}${process.env.LABBOOK_DEBUG ? `\n${(e as Error)?.stack}` : ' (set LABBOOK_DEBUG=1 for a stack trace)'}\n`);
    return 1;
  }
}

/** Every spelling of an option that takes a value, across all commands (to skip its value). */
const VALUE_OPTIONS = new Set(
  [GLOBAL, ...Object.values(COMMANDS).map((c) => c.flags)].flatMap((flags) =>
    Object.entries(flags)
      .filter(([, s]) => s.value)
      .flatMap(([name, s]) => [`--${name}`, ...(s.alias ? [`-${s.alias}`] : [])]),
  ),
);

/** The first argument that is not an option or an option's value. */
function findVerb(argv: readonly string[]): number {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') return -1;
    if (VALUE_OPTIONS.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return i;
  }
  return -1;
}

if (require.main === module) {
  // A reader that stops early (`labbook diff … | head`) closes the pipe: that is not a failure.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
