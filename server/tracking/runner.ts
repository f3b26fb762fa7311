/**
 * Runs a user's command with tracking: parameters, code, environment, data read and written,
 * metrics and output, into the store while it runs. Shared by `labbook run` and the server.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError } from '../core/errors';
import { type CodeDto, type EnvironmentDto, PARAM_SOURCES, type RunKind, type RunStatus, type RunSummary } from '../protocol/dto';
import type { Store } from '../store/db';
import { BoundedCapture } from './capture';
import { captureGit, capturePython, captureSystem, resolveExecutable } from './environment';
import { EventApplier, relativeToWorkspace } from './events';
import { type ParamValue, applyOverrides, collectParams } from './params';
import { pythonDir } from './pythonDir';

const PYTHON_RE = /^python(\d+(\.\d+)?)?(\.exe)?$/i;
/** Python options that take a value (so the script is the argument after it). */
const PY_VALUE_OPTS = new Set(['-W', '-X', '--check-hash-based-pycs']);

export interface TrackOptions {
  workspace: string;
  /**
   * The command as typed after `--` (e.g. ['python', 'train.py', '--lr', '0.01']). The text
   * `{run_dir}` in an argument becomes the run's folder.
   */
  command: string[];
  /** Parameters to record instead of reading them from the command line (notebook runs). */
  params?: ReadonlyMap<string, ParamValue>;
  /** Files to record as the run's code instead of the script and its config files. */
  code?: { file: string; kind: CodeDto['kind'] }[];
  /** Files the process reads that are not data (a notebook read by the notebook runner). */
  notInputs?: string[];
  cwd?: string;
  overrides?: ReadonlyMap<string, string>;
  name?: string;
  /** The interpreter to use for `python`/`python3` and for `*.py` (default: python3). */
  python?: string;
  /** Globs of data files to hash as declared inputs (relative to the workspace). */
  data?: string[];
  kind?: RunKind;
  /** What to record as the run's command, when the command run is an implementation detail. */
  displayCommand?: string;
  parentId?: string;
  /** Bytes of stdout and of stderr kept with the run (head and tail); default 2 MiB each. */
  captureBytes?: number;
  onOutput?: (stream: 'stdout' | 'stderr', text: string) => void;
  onStarted?: (run: RunSummary) => void;
  signal?: AbortSignal;
}

export interface TrackResult {
  run: RunSummary;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  warnings: string[];
}

export interface ResolvedCommand {
  argv: string[];
  /** The script file (absolute) when the command runs one. */
  script?: string;
  /** Arguments the script itself gets (where its parameters are). */
  scriptArgs: string[];
  /** Index in argv where scriptArgs start. */
  scriptArgsAt: number;
  python: boolean;
}

/** Works out interpreter, script and script arguments from what the user typed. */
export function resolveCommand(command: string[], cwd: string, python = 'python3'): ResolvedCommand {
  if (command.length === 0) throw new LabbookError('BAD_ARGUMENT', 'no command to run (give it after --, e.g. labbook run -- python train.py)');
  const first = command[0];
  let argv: string[];
  // `python`/`python3` mean "the user's interpreter" (the setting, else python3); a path or a
  // specific version (`python3.12`, `.venv/bin/python`) is taken as typed.
  if (first === 'python' || first === 'python3') argv = [python, ...command.slice(1)];
  else if (PYTHON_RE.test(path.basename(first))) argv = [...command];
  else if (first.endsWith('.py')) argv = [python, ...command];
  else return { argv: [...command], scriptArgs: command.slice(1), scriptArgsAt: 1, python: false };
  let i = 1;
  while (i < argv.length && argv[i].startsWith('-') && argv[i] !== '-m' && argv[i] !== '-c') i += PY_VALUE_OPTS.has(argv[i]) ? 2 : 1;
  if (argv[i] === '-m' || argv[i] === '-c') return { argv, scriptArgs: argv.slice(i + 2), scriptArgsAt: i + 2, python: true };
  if (i >= argv.length) return { argv, scriptArgs: [], scriptArgsAt: argv.length, python: true };
  const script = path.resolve(cwd, argv[i]);
  if (!fs.existsSync(script)) throw new LabbookError('BAD_ARGUMENT', `script ${argv[i]} not found in ${cwd}`);
  return { argv, script, scriptArgs: argv.slice(i + 1), scriptArgsAt: i + 1, python: true };
}

export function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`;
}

/** Files matching workspace-relative globs (`*`, `**`, `?`). */
export function expandGlobs(workspace: string, globs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const g of globs) {
    const parts = g.split('/');
    const firstWild = parts.findIndex((p) => /[*?[]/.test(p));
    const base = path.resolve(workspace, firstWild < 0 ? g : parts.slice(0, firstWild).join('/') || '.');
    if (firstWild < 0) {
      if (fs.existsSync(base) && fs.statSync(base).isFile()) out.add(base);
      continue;
    }
    const re = new RegExp(
      '^' +
        path
          .resolve(workspace, g)
          .split('/')
          .map((seg) => (seg === '**' ? '\u0000' : seg.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
          .join('/')
          .replace(/\/\u0000\//g, '(?:/.*)?/')
          .replace(/\/\u0000$/, '(?:/.*)?') +
        '$',
    );
    const walk = (dir: string, depth: number) => {
      if (depth > 40) return;
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        if (e.name === '.labbook' || e.name === '.git' || e.name === 'node_modules') continue;
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p, depth + 1);
        else if (e.isFile() && re.test(p)) out.add(p);
      }
    };
    if (fs.existsSync(base)) walk(base, 0);
  }
  return [...out].sort();
}

export async function trackRun(store: Store, o: TrackOptions): Promise<TrackResult> {
  const workspace = path.resolve(o.workspace);
  const cwd = path.resolve(o.cwd ?? workspace);
  const overrides = o.overrides ?? new Map<string, string>();
  const resolved = resolveCommand(o.command, cwd, o.python);
  const argv = o.params ? resolved.argv : [...resolved.argv.slice(0, resolved.scriptArgsAt), ...applyOverrides(resolved.scriptArgs, overrides)];
  if (!resolveExecutable(argv[0])) {
    throw new LabbookError(
      'BAD_ARGUMENT',
      resolved.python
        ? `Python interpreter '${argv[0]}' not found: set labbook.python.path in VS Code, or --python / LABBOOK_PYTHON for the CLI`
        : `command '${argv[0]}' not found`,
    );
  }
  const { params, configFiles } = o.params ? { params: o.params, configFiles: [] } : collectParams(argv.slice(resolved.scriptArgsAt), overrides, cwd);
  const declared = expandGlobs(workspace, o.data ?? []);

  const run = store.createRun({
    name: o.name ?? (resolved.script ? path.basename(resolved.script, '.py') : path.basename(argv[0])),
    kind: o.kind ?? 'script',
    command: o.displayCommand ?? argv.map(quote).join(' '),
    cwd,
    parentId: o.parentId,
    pid: process.pid,
  });
  const runDir = path.join(store.paths.dir, 'runs', run.id);
  fs.mkdirSync(runDir, { recursive: true });
  for (let i = 0; i < argv.length; i++) argv[i] = argv[i].split('{run_dir}').join(runDir);
  const warnings: string[] = [];
  const writer = store.metricWriter(run.id);
  const applier = new EventApplier(store, run.id, workspace, path.join(runDir, 'events.jsonl'), writer, (m) => warnings.push(m), new Set(o.notInputs ?? []));
  try {
    for (const source of PARAM_SOURCES) {
      const group = Object.fromEntries([...params].filter(([, v]) => v.source === source).map(([k, v]) => [k, v.value]));
      if (Object.keys(group).length) store.logParams(run.id, group, source);
    }
    const code = o.code ?? [...(resolved.script ? [{ file: resolved.script, kind: 'script' as const }] : []), ...configFiles.map((file) => ({ file, kind: 'config' as const }))];
    for (const c of code) store.addCode(run.id, { path: relativeToWorkspace(workspace, c.file), kind: c.kind, blob: store.putBlob(fs.readFileSync(c.file)) });
    o.onStarted?.(run);
    const py = pythonDir();
    const envParts: Promise<Partial<EnvironmentDto>>[] = [captureSystem(), captureGit(store, workspace)];
    if (resolved.python) envParts.push(capturePython(store, argv[0], py));
    const environment = Promise.all(envParts).then(mergeEnvironment);
    const declaredDone = Promise.all(declared.map((f) => applier.recordInput(f, true)));

    const limit = o.captureBytes ?? 2 * 1024 * 1024;
    const out = { stdout: new BoundedCapture(limit), stderr: new BoundedCapture(limit) };
    const child = spawn(argv[0], argv.slice(1), {
      cwd,
      env: {
        ...process.env,
        LABBOOK_RUN_DIR: runDir,
        LABBOOK_RUN_ID: run.id,
        LABBOOK_WORKSPACE: workspace,
        PYTHONPATH: [path.join(py, 'boot'), py, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
        PYTHONUNBUFFERED: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].on('data', (d: Buffer) => {
        out[stream].push(d);
        o.onOutput?.(stream, d.toString('utf8'));
      });
    }
    const onAbort = () => child.kill('SIGTERM');
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(() => void applier.poll(), 150);
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('close', (code, signal) => resolve({ code, signal }));
    });
    clearInterval(timer);
    o.signal?.removeEventListener('abort', onAbort);

    await applier.finish();
    writer.close();
    await declaredDone;
    store.setEnvironment(run.id, await environment);
    for (const stream of ['stdout', 'stderr'] as const) {
      const text = out[stream].text();
      if (text) store.addContentArtifact(run.id, `${stream}.log`, text, 'log');
    }
    if (applier.cells.length) store.addContentArtifact(run.id, 'cells.json', JSON.stringify(applier.cells), 'cell-timings');
    warnings.push(...applier.warnings);
    let status: Exclude<RunStatus, 'running'>;
    if (exit.error) {
      warnings.push(`could not start ${argv[0]}: ${exit.error.message}`);
      status = 'failed';
    } else if (exit.signal) status = 'crashed';
    else status = exit.code === 0 ? 'finished' : 'failed';
    store.endRun(run.id, status, exit.code);
    return { run: store.getRun(run.id), exitCode: exit.code, signal: exit.signal, warnings };
  } catch (e) {
    // Recording failed (a store write, a copy, an unreadable script): the run must not stay 'running'.
    try {
      store.endRun(run.id, 'failed', null);
    } catch {
      // the store is gone too; recovery marks it crashed on the next start
    }
    throw e;
  }
}

function mergeEnvironment(parts: Partial<EnvironmentDto>[]): Partial<EnvironmentDto> {
  const merged: Partial<EnvironmentDto> = {};
  const extra: Record<string, unknown> = {};
  for (const { extra: e, ...rest } of parts) {
    Object.assign(merged, rest);
    Object.assign(extra, e ?? {});
  }
  return { ...merged, extra };
}
