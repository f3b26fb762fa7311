// The Python side of run tracking, exercised for real: every test spawns /usr/bin/python3 with
// the environment a tracked run gets (docs/run-events.md) and reads back events.jsonl.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { ROOT, tempWorkspace } from './helpers';

const PY = '/usr/bin/python3';
const PYDIR = path.join(ROOT, 'server', 'tracking', 'python');
const BOOT = path.join(PYDIR, 'boot');
const NBRUN = path.join(PYDIR, 'labbook_nbrun.py');
const NOTEBOOKS = path.join(ROOT, 'test', 'fixtures', 'notebooks');
const NOT_TRACKED = 'labbook: not inside a tracked run; log_* calls are ignored';

type Event = { t: string; ts: number; [field: string]: unknown };

interface Workspace {
  ws: string;
  runDir: string;
  env: NodeJS.ProcessEnv;
}

/** A fresh workspace with a run folder, and the environment Labbook gives the run's processes. */
function workspace(opts: { tracked?: boolean; pythonPath?: string[] } = {}): Workspace {
  // realpath: the tracker reports resolved paths, and os.tmpdir() may be a symlink.
  const ws = fs.realpathSync(tempWorkspace('labbook-py-'));
  const runDir = path.join(ws, '.labbook', 'runs', 'a1b2c3d4');
  fs.mkdirSync(runDir, { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('LABBOOK_') || k.startsWith('PYTHON')) delete env[k];
  env.PYTHONPATH = [BOOT, PYDIR, ...(opts.pythonPath ?? [])].join(path.delimiter);
  env.IPYTHONDIR = path.join(ws, '..', path.basename(ws) + '-ipython'); // keep the kernel out of ~/.ipython
  if (opts.tracked !== false) {
    env.LABBOOK_RUN_DIR = runDir;
    env.LABBOOK_RUN_ID = 'a1b2c3d4';
    env.LABBOOK_WORKSPACE = ws;
  }
  return { ws, runDir, env };
}

function write(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function python(w: Workspace, args: string[], cwd = w.ws) {
  const r = spawnSync(PY, args, { cwd, env: w.env, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs `source` as <ws>/script.py and asserts it exited 0. */
function script(w: Workspace, source: string, name = 'script.py') {
  write(path.join(w.ws, name), source);
  const r = python(w, [name]);
  assert.equal(r.code, 0, `python ${name} failed:\n${r.stderr}`);
  return r;
}

/** Every line of events.jsonl, parsed as JavaScript would (no NaN tokens allowed). */
function events(w: Workspace): Event[] {
  const file = path.join(w.runDir, 'events.jsonl');
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, 'utf8');
  if (text === '') return [];
  assert.ok(text.endsWith('\n'), 'events.jsonl ends with a newline');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const e = JSON.parse(line) as Event;
      assert.equal(typeof e.t, 'string', line);
      assert.equal(typeof e.ts, 'number', line);
      assert.ok(Math.abs(e.ts - Date.now()) < 600_000, `ts is milliseconds since the epoch: ${line}`);
      return e;
    });
}

/** `{t, ...fields}` of each event of the given types, without ts. */
function of(evs: Event[], ...types: string[]): Array<Record<string, unknown>> {
  return evs.filter((e) => types.includes(e.t)).map(({ ts: _ts, ...rest }) => rest);
}

function paths(evs: Event[], t: string): string[] {
  return evs
    .filter((e) => e.t === t)
    .map((e) => e.path as string)
    .sort();
}

describe('python: the labbook module', () => {
  it('writes params, metrics, artifacts and confusion matrices as the contract says', () => {
    const w = workspace();
    write(path.join(w.ws, 'models', 'model.bin'), 'weights');
    script(
      w,
      `import os, pathlib
import numpy as np
import labbook
assert labbook.run_id() == 'a1b2c3d4' and labbook.run_dir() == os.environ['LABBOOK_RUN_DIR']
labbook.log_param('lr', 0.001)
labbook.log_params({'layers': [64, np.int64(32)], 'opt': {'name': 'adam', 'beta': np.float32(0.5)}, 'path': pathlib.Path('data/x.csv'), 'none': None, 'flag': True})
labbook.log_metric('loss', np.float64(0.25), step=np.int64(3))
labbook.log_metric('loss', float('nan'))
labbook.log_metrics({'acc': np.array(0.75), 'up': float('inf'), 'down': -np.inf, 'n': 7}, step=4)
os.chdir('models')
labbook.log_artifact('model.bin', kind='model')
labbook.log_artifact(pathlib.Path('..'))
labbook.log_confusion_matrix(np.array([0, 1, 2]), np.array([[5, 1, 0], [2, 3, 1], [0, 0, 9]]), step=2)
labbook.log_confusion_matrix(['cat', 'dog'], [[0.5, float('nan')], [0.25, 0.75]])
`,
    );
    const evs = events(w);
    assert.deepEqual(of(evs, 'param', 'metric', 'artifact', 'confusion_matrix'), [
      { t: 'param', key: 'lr', value: 0.001 },
      { t: 'param', key: 'layers', value: [64, 32] },
      { t: 'param', key: 'opt', value: { name: 'adam', beta: 0.5 } },
      { t: 'param', key: 'path', value: 'data/x.csv' },
      { t: 'param', key: 'none', value: null },
      { t: 'param', key: 'flag', value: true },
      { t: 'metric', key: 'loss', value: 0.25, step: 3 },
      { t: 'metric', key: 'loss', value: 'NaN', step: null },
      { t: 'metric', key: 'acc', value: 0.75, step: 4 },
      { t: 'metric', key: 'up', value: 'Infinity', step: 4 },
      { t: 'metric', key: 'down', value: '-Infinity', step: 4 },
      { t: 'metric', key: 'n', value: 7, step: 4 },
      { t: 'artifact', path: path.join(w.ws, 'models', 'model.bin'), kind: 'model' },
      { t: 'artifact', path: w.ws, kind: 'file' },
      { t: 'confusion_matrix', labels: ['0', '1', '2'], matrix: [[5, 1, 0], [2, 3, 1], [0, 0, 9]], step: 2 },
      { t: 'confusion_matrix', labels: ['cat', 'dog'], matrix: [[0.5, 'NaN'], [0.25, 0.75]], step: null },
    ]);
    assert.doesNotMatch(fs.readFileSync(path.join(w.runDir, 'events.jsonl'), 'utf8'), /\bNaN\b(?!")|Infinity(?!")/);
  });

  it('rejects bad arguments with clear errors and writes nothing for them', () => {
    const w = workspace();
    const r = script(
      w,
      `import json, labbook
cases = {
  'empty key': lambda: labbook.log_metric('', 1),
  'blank param': lambda: labbook.log_param('  ', 1),
  'key not str': lambda: labbook.log_param(3, 1),
  'metric str': lambda: labbook.log_metric('loss', '0.5'),
  'metric None': lambda: labbook.log_metric('loss', None),
  'metric list': lambda: labbook.log_metric('loss', [1, 2]),
  'negative step': lambda: labbook.log_metric('loss', 1, step=-1),
  'float step': lambda: labbook.log_metric('loss', 1, step=1.5),
  'batch with one bad value': lambda: labbook.log_metrics({'good': 1, 'bad': 'x'}),
  'metrics not a dict': lambda: labbook.log_metrics([('a', 1)]),
  'not square': lambda: labbook.log_confusion_matrix(['a', 'b'], [[1, 2], [3]]),
  'size mismatch': lambda: labbook.log_confusion_matrix(['a', 'b', 'c'], [[1, 2], [3, 4]]),
  'no labels': lambda: labbook.log_confusion_matrix([], []),
  'missing artifact': lambda: labbook.log_artifact('no/such/file.pt'),
  'artifact kind': lambda: labbook.log_artifact('script.py', kind=''),
}
out = {}
for name, call in cases.items():
    try:
        call()
        out[name] = 'no error'
    except (TypeError, ValueError) as e:
        out[name] = type(e).__name__ + ': ' + str(e)
print(json.dumps(out))
`,
    );
    const out = JSON.parse(r.stdout) as Record<string, string>;
    const expected: Record<string, RegExp> = {
      'empty key': /^ValueError: .*metric name is empty/,
      'blank param': /^ValueError: .*parameter name is empty/,
      'key not str': /^TypeError: .*name must be a str, not int/,
      'metric str': /^TypeError: .*metric 'loss' must be a number, not str/,
      'metric None': /^TypeError: .*must be a number, not NoneType/,
      'metric list': /^TypeError: .*must be a number, not list/,
      'negative step': /^ValueError: .*step must be >= 0, got -1/,
      'float step': /^TypeError: .*step must be an int/,
      'batch with one bad value': /^TypeError: .*metric 'bad' must be a number/,
      'metrics not a dict': /^TypeError: .*metrics must be a dict/,
      'not square': /^ValueError: .*not square/,
      'size mismatch': /^ValueError: .*2x2 but there are 3 labels/,
      'no labels': /^ValueError: .*labels is empty/,
      'missing artifact': new RegExp(`^ValueError: .*no/such/file\\.pt does not exist \\(resolved to ${w.ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/no/such/file\\.pt\\)`),
      'artifact kind': /^ValueError: .*kind must be a non-empty str/,
    };
    for (const [name, re] of Object.entries(expected)) assert.match(out[name], re, name);
    assert.deepEqual(of(events(w), 'param', 'metric', 'artifact', 'confusion_matrix'), [], 'a rejected call writes nothing, even part of a batch');
  });

  it('is a no-op outside a tracked run, warning once', () => {
    const w = workspace({ tracked: false });
    const r = script(
      w,
      `import labbook
print(labbook.run_id(), labbook.run_dir())
labbook.log_param('a', 1)
labbook.log_metric('m', 1.0, step=0)
labbook.log_artifact('script.py')
try:
    labbook.log_metric('m', 'x')
except TypeError:
    print('still validated')
`,
    );
    assert.equal(r.stdout, 'None None\nstill validated\n');
    assert.equal(r.stderr, NOT_TRACKED + '\n');
    assert.deepEqual(fs.readdirSync(w.runDir), []);
  });

  it('keeps every line whole when threads and processes log at once', () => {
    const w = workspace();
    script(
      w,
      `import os, threading, labbook
def work(n):
    for i in range(300):
        labbook.log_metric('m%d' % n, i * 0.5, step=i)
        labbook.log_param('p%d_%d' % (n, i), 'x' * 500)
pid = os.fork()
threads = [threading.Thread(target=work, args=(n + (10 if pid == 0 else 0),)) for n in range(4)]
for t in threads: t.start()
for t in threads: t.join()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
`,
    );
    const evs = events(w);
    assert.equal(evs.filter((e) => e.t === 'metric').length, 8 * 300);
    assert.equal(evs.filter((e) => e.t === 'param').length, 8 * 300);
  });
});

describe('python: the file-tracking hook (sitecustomize)', () => {
  it('reports workspace inputs, outputs and modules, and nothing else', () => {
    const w = workspace();
    write(path.join(w.ws, 'data', 'train.csv'), 'a,b\n1,2\n');
    write(path.join(w.ws, 'data', 'extra "quoted" é.txt'), 'x');
    write(path.join(w.ws, 'pkg', '__init__.py'), '');
    write(path.join(w.ws, 'pkg', 'helper.py'), 'VALUE = 41\n');
    write(path.join(w.ws, 'fake_mod.py'), '# never opened, only registered in sys.modules\n');
    write(path.join(w.ws, '.venv', 'lib', 'python3.11', 'site-packages', 'dep', 'data.txt'), 'dep');
    write(path.join(w.ws, '.labbook', 'notes.txt'), 'internal');
    const outside = write(path.join(tempWorkspace(), 'outside.csv'), '1,2\n');
    fs.symlinkSync(outside, path.join(w.ws, 'data', 'link-out.csv'));
    script(
      w,
      `import os, sys, types, pathlib, json, csv
from pkg import helper
assert helper.VALUE == 41
with open('data/train.csv', newline='') as f:
    rows = list(csv.reader(f))
pathlib.Path('data/extra "quoted" é.txt').read_text()
open(b'data/train.csv', 'rb').close()              # bytes path: same file, reported once
os.makedirs('out', exist_ok=True)
with open('out/metrics.json', 'w') as f:
    json.dump({'rows': len(rows)}, f)
fd = os.open('out/raw.bin', os.O_WRONLY | os.O_CREAT | os.O_TRUNC); os.write(fd, b'x'); os.close(fd)
with open('data/train.csv', 'r+') as f: pass       # read-write counts as output
fd = os.open('data', os.O_RDONLY); os.close(fd)    # a directory is not an input
try: open('data/missing.csv')
except FileNotFoundError: pass
open(sys.stdin.fileno(), closefd=False)            # an fd, not a path
open(os.__file__).read()                           # stdlib source
open('${outside}').read()                          # outside the workspace
open('data/link-out.csv').read()                   # inside by name, outside once resolved
open('.venv/lib/python3.11/site-packages/dep/data.txt').read()
open('.labbook/notes.txt').read(); open('.labbook/new.txt', 'w').close()
open('pkg/generated.py', 'w').close()              # writing source is neither output nor module
fake = types.ModuleType('fake_mod'); fake.__file__ = os.path.abspath('fake_mod.py'); sys.modules['fake_mod'] = fake
import labbook                                     # outside the workspace: no module event
`,
    );
    const evs = events(w);
    const ws = w.ws;
    assert.deepEqual(paths(evs, 'input'), [path.join(ws, 'data', 'extra "quoted" é.txt'), path.join(ws, 'data', 'train.csv')]);
    assert.deepEqual(paths(evs, 'output'), [path.join(ws, 'data', 'train.csv'), path.join(ws, 'out', 'metrics.json'), path.join(ws, 'out', 'raw.bin')]);
    assert.deepEqual(paths(evs, 'module'), [path.join(ws, 'fake_mod.py'), path.join(ws, 'pkg', '__init__.py'), path.join(ws, 'pkg', 'helper.py'), path.join(ws, 'script.py')]);
    const pairs = evs.filter((e) => 'path' in e).map((e) => `${e.t} ${String(e.path)}`);
    assert.equal(new Set(pairs).size, pairs.length, 'each (type, path) once');
  });

  it('reports a module imported from its cached .pyc alone', () => {
    const w = workspace();
    write(path.join(w.ws, 'helper.py'), 'VALUE = 1\n');
    const first = `import helper\n`;
    script(w, first, 'first.py');
    const pyc = path.join(w.ws, '__pycache__', 'helper.cpython-311.pyc');
    assert.ok(fs.existsSync(pyc), 'the first run cached helper.pyc');
    fs.rmSync(path.join(w.runDir, 'events.jsonl'));
    // Our own audit hook sees what the import opens; os._exit skips the at-exit scan, so the
    // module event can only come from the .pyc open.
    script(
      w,
      `import os, sys
opened = []
sys.addaudithook(lambda ev, args: opened.append(str(args[0])) if ev == 'open' else None)
import helper
assert any(p.endswith('helper.cpython-311.pyc') for p in opened), opened
assert not any(p.endswith('helper.py') for p in opened), opened
os._exit(0)
`,
      'second.py',
    );
    assert.deepEqual(paths(events(w), 'module'), [path.join(w.ws, 'helper.py'), path.join(w.ws, 'second.py')]);
    assert.deepEqual(paths(events(w), 'input'), []);
  });

  it('chains to the sitecustomize that would have run without it', () => {
    // Debian's sitecustomize imports apport_python_hook and calls install(): a stand-in for
    // that module makes its run observable.
    const debian = '/usr/lib/python3.11/sitecustomize.py';
    const fakes = tempWorkspace();
    write(path.join(fakes, 'apport_python_hook.py'), 'import builtins\ndef install():\n    builtins.APPORT_INSTALLED = True\n');
    const check = `import builtins, sys
sc = sys.modules['sitecustomize']
print(sc.__file__, sc.chained.__file__ if sc.chained else None, getattr(builtins, 'APPORT_INSTALLED', False))
`;
    for (const tracked of [true, false]) {
      const w = workspace({ tracked, pythonPath: [fakes] });
      const r = script(w, check);
      assert.equal(r.stderr, '');
      if (fs.existsSync(debian)) assert.equal(r.stdout, `${path.join(BOOT, 'sitecustomize.py')} ${debian} True\n`, `tracked=${tracked}`);
      else assert.match(r.stdout, new RegExp(`^${path.join(BOOT, 'sitecustomize.py')} None False`));
    }
    // Any sitecustomize later on the path is the one chained to, and its errors surface as usual.
    const other = tempWorkspace();
    write(path.join(other, 'sitecustomize.py'), 'import builtins\nbuiltins.OTHER_SITE = True\n');
    const w = workspace({ pythonPath: [other] });
    const r = script(w, `import builtins, sys\nprint(builtins.OTHER_SITE, sys.modules['sitecustomize'].chained.__file__)\n`);
    assert.equal(r.stdout, `True ${path.join(other, 'sitecustomize.py')}\n`);
    write(path.join(other, 'sitecustomize.py'), 'raise RuntimeError("broken site hook")\n');
    const broken = python(w, ['-c', 'print("ran")']);
    assert.equal(broken.stdout, 'ran\n');
    assert.match(broken.stderr, /Error in sitecustomize.*\n?.*broken site hook/);
  });
});

describe('python: interpreter probe', () => {
  it('prints the interpreter and its packages as JSON', () => {
    const w = workspace({ tracked: false });
    const r = python(w, [path.join(PYDIR, 'labbook_probe.py')]);
    assert.equal(r.code, 0, r.stderr);
    const p = JSON.parse(r.stdout) as { executable: string; version: string; implementation: string; platform: string; packages: Record<string, string>; site_dirs: string[] };
    assert.equal(p.executable, PY);
    assert.match(p.version, /^3\.\d+\.\d+$/);
    assert.equal(p.implementation, 'CPython');
    assert.match(p.platform, /^Linux-/);
    assert.match(p.packages.numpy, /^\d+\.\d+/);
    const lower = Object.keys(p.packages).map((k) => k.toLowerCase().replace(/[-_.]+/g, '-'));
    assert.equal(new Set(lower).size, lower.length, 'names are unique case-insensitively');
    const numpyDir = python(w, ['-c', 'import numpy, os; print(os.path.dirname(os.path.dirname(numpy.__file__)))']).stdout.trim();
    assert.ok(p.site_dirs.includes(numpyDir), `${numpyDir} in ${p.site_dirs.join(', ')}`);
  });
});

describe('python: notebook runner', () => {
  function nbrun(w: Workspace, name: string, extra: string[] = [], py: string[] = []) {
    const input = path.join(w.ws, name);
    fs.copyFileSync(path.join(NOTEBOOKS, name), input);
    const output = path.join(w.ws, 'out', name.replace(/\.ipynb$/, '.out.ipynb'));
    return { ...python(w, [...py, NBRUN, input, output, ...extra]), input, output };
  }
  type Cell = { cell_type: string; source: string | string[]; outputs?: Array<Record<string, unknown>>; execution_count?: number | null; metadata: { tags?: string[] } };
  const cells = (file: string) => (JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Cell[] }).cells;
  const text = (v: string | string[] | unknown) => (Array.isArray(v) ? v.join('') : String(v));

  it('runs a parameterised notebook in this interpreter, injecting the parameters', () => {
    const w = workspace();
    const r = nbrun(w, 'params.ipynb', ['--params-json', JSON.stringify({ lr: 0.5, name: 'override', tags: ['a', null] })]);
    assert.equal(r.code, 0, r.stderr);
    const out = cells(r.output);
    assert.deepEqual(out.map((c) => c.metadata.tags ?? []), [[], ['parameters'], ['injected-parameters'], [], []]);
    assert.equal(text(out[2].source), "# Parameters injected by Labbook\nlr = 0.5\nname = 'override'\ntags = ['a', None]\n");
    assert.equal(text(out[3].outputs?.[0].text), `lr=0.5 epochs=2 name=override\n${PY}\n`, 'injected values win; the kernel is this interpreter');
    assert.equal(text((out[4].outputs?.[0].data as Record<string, unknown>)['text/plain']), '5.0');
    assert.deepEqual(out.map((c) => c.execution_count ?? null), [null, 1, 2, 3, 4]);
    const evs = events(w);
    const cellEvents = of(evs, 'cell');
    assert.deepEqual(cellEvents.map((e) => [e.index, e.status, e.execution_count]), [[1, 'ok', 1], [2, 'ok', 2], [3, 'ok', 3], [4, 'ok', 4]]);
    assert.equal(cellEvents[0].id, 'params-1');
    for (const e of cellEvents) assert.ok(typeof e.duration_ms === 'number' && e.duration_ms >= 0);
    // The kernel had the run's environment: labbook logged, the audit hook saw its output.
    assert.deepEqual(of(evs, 'metric'), [
      { t: 'metric', key: 'loss', value: 0.5, step: 0 },
      { t: 'metric', key: 'loss', value: 1, step: 1 },
    ]);
    assert.ok(paths(evs, 'output').includes(path.join(w.ws, 'result.txt')), 'cwd defaults to the notebook folder');
    assert.equal(fs.readFileSync(path.join(w.ws, 'result.txt'), 'utf8'), 'override');
    assert.deepEqual(of(evs, 'notebook'), [{ t: 'notebook', path: r.output }]);
    assert.equal(evs[evs.length - 1].t, 'notebook');
  });

  it('stops at the first failing cell, saving what ran', () => {
    const w = workspace();
    const r = nbrun(w, 'fails.ipynb');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^labbook: cell 2 failed: ZeroDivisionError: division by zero$/m);
    const cellEvents = of(events(w), 'cell');
    assert.equal(cellEvents.length, 2);
    assert.deepEqual(cellEvents[0], { t: 'cell', index: 0, id: 'fails-0', status: 'ok', duration_ms: cellEvents[0].duration_ms, execution_count: 1 });
    const err = cellEvents[1];
    assert.deepEqual([err.index, err.id, err.status, err.ename, err.evalue], [2, 'fails-2', 'error', 'ZeroDivisionError', 'division by zero']);
    const tb = err.traceback as string[];
    assert.ok(tb.some((l) => l.includes('ZeroDivisionError')));
    assert.ok(!tb.some((l) => l.includes('\x1b[')), 'ANSI colours stripped');
    assert.deepEqual(of(events(w), 'notebook'), []);
    const out = cells(r.output);
    assert.equal(text(out[0].outputs?.[0].text), 'first\n');
    assert.equal(out[2].outputs?.[0].output_type, 'error');
    assert.deepEqual(out[3].outputs, [], 'cells after the failure did not run');
  });

  it('reports a kernel that dies, keeping what was logged before', () => {
    const w = workspace();
    // Started without our PYTHONPATH, the runner still gives the kernel `import labbook`.
    delete w.env.PYTHONPATH;
    const r = nbrun(w, 'dies.ipynb');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^labbook: cell 1 failed: DeadKernelError: /m);
    const evs = events(w);
    assert.deepEqual(of(evs, 'metric'), [{ t: 'metric', key: 'before_death', value: 1.5, step: null }]);
    assert.deepEqual(of(evs, 'cell').map((e) => [e.index, e.status, e.ename ?? null]), [[0, 'ok', null], [1, 'error', 'DeadKernelError']]);
    assert.ok(fs.existsSync(r.output));
  });

  it('stops a cell that runs past --timeout, in the --cwd given', () => {
    const w = workspace();
    const sub = path.join(w.ws, 'sub');
    fs.mkdirSync(sub);
    const started = Date.now();
    const r = nbrun(w, 'slow.ipynb', ['--timeout', '1', '--cwd', sub]);
    assert.equal(r.code, 1);
    assert.ok(Date.now() - started < 15_000, 'the sleeping kernel was not waited for');
    assert.match(r.stderr, /^labbook: cell 0 failed: CellTimeoutError: cell timed out after 1 seconds$/m);
    assert.ok(fs.existsSync(path.join(sub, 'started.txt')));
    const cellEvents = of(events(w), 'cell');
    assert.deepEqual(cellEvents.map((e) => [e.index, e.status, e.ename]), [[0, 'error', 'CellTimeoutError']]);
    assert.ok((cellEvents[0].duration_ms as number) >= 1000);
  });

  it('refuses a notebook that is not valid JSON, naming line and column', () => {
    const w = workspace();
    const r = nbrun(w, 'broken.ipynb');
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `labbook: ${r.input} is not valid JSON (line 4, column 3: Expecting ',' delimiter)\n`);
    assert.ok(!fs.existsSync(r.output));
    write(path.join(w.ws, 'plain.json'), '{"hello": 1}');
    const r2 = python(w, [NBRUN, path.join(w.ws, 'plain.json'), path.join(w.ws, 'o.ipynb')]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /plain\.json is not a Jupyter notebook/);
  });

  it('says what to install when this interpreter has no nbclient', () => {
    const w = workspace();
    // -S leaves out site-packages/dist-packages, where nbclient lives.
    const r = nbrun(w, 'params.ipynb', [], ['-S']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, `labbook: nbclient and ipykernel are needed to run notebooks with ${PY}: install them (pip install nbclient ipykernel, or on Debian: apt-get install python3-nbclient python3-ipykernel)\n`);
  });
});
