import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { ROOT, runCli, tempWorkspace } from './helpers';

const PY = '/usr/bin/python3';
const CORPUS = path.join(ROOT, 'test', 'fixtures', 'extract');

interface ExtractOut {
  steps: { name: string; cells: number[]; cellIds: string[]; inputs: string[]; outputs: string[]; params: string[] }[];
  params: Record<string, unknown>;
  warnings: string[];
  notes: string[];
  files: string[];
  verify?: { ok: boolean; notebookOk: boolean; pipelineRun: string; notebookRun: string; steps: { name: string; ok: boolean; detail: string }[] };
}

/** A workspace with a copy of a corpus notebook in it. */
function withNotebook(name: string): { ws: string; nb: string } {
  const ws = tempWorkspace('labbook-extract-');
  fs.copyFileSync(path.join(CORPUS, name), path.join(ws, name));
  return { ws, nb: name };
}

function writeNotebook(dir: string, name: string, cells: ({ md: string } | { code: string; tags?: string[] })[]): string {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((c, i) =>
      'md' in c
        ? { cell_type: 'markdown', id: `m${i}`, metadata: {}, source: c.md }
        : { cell_type: 'code', id: `c${i}`, metadata: c.tags ? { tags: c.tags } : {}, execution_count: null, outputs: [], source: c.code },
    ),
  };
  fs.writeFileSync(path.join(dir, name), JSON.stringify(nb));
  return name;
}

function extract(ws: string, args: string[]): { code: number; stdout: string; stderr: string; json: ExtractOut | null } {
  const r = runCli(['extract', ...args, '--json', '--python', PY], { cwd: ws });
  let json: ExtractOut | null = null;
  try {
    json = JSON.parse(r.stdout) as ExtractOut;
  } catch {
    json = null;
  }
  return { ...r, json };
}

function py(args: string[], cwd: string) {
  const r = spawnSync(PY, args, { cwd, encoding: 'utf8', env: { ...process.env, MPLBACKEND: 'Agg' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const read = (f: string) => fs.readFileSync(f, 'utf8');

describe('labbook extract: notebook to pipeline', () => {
  it('splits at headings into step modules with only their imports, lifts parameters, and the pipeline runs, skips and re-runs what changed', () => {
    const { ws, nb } = withNotebook('iris_classifier.ipynb');
    const r = extract(ws, [nb, '--out', 'pipe']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.json!;
    assert.deepEqual(out.steps.map((s) => s.name), ['parameters', 'load_the_data', 'clean_and_engineer_features', 'train', 'evaluate']);
    const train = out.steps.find((s) => s.name === 'train')!;
    assert.deepEqual(new Set(train.inputs), new Set(['X', 'y', 'n_trees']));
    assert.ok(train.outputs.includes('model') && train.outputs.includes('X_test'));
    // The in-place clean-up (df.dropna(inplace=True), df['x'] = …) reads df from the load step and hands it on.
    const clean = out.steps.find((s) => s.name === 'clean_and_engineer_features')!;
    assert.deepEqual(clean.inputs, ['df']);
    assert.ok(clean.outputs.includes('df'));
    assert.equal(out.params.n_trees, 50);
    assert.equal(out.params.test_size, 0.3);
    assert.equal(out.params.max_depth, 4);
    assert.equal(train.cellIds.length, train.cells.length);
    assert.ok(out.notes.some((n) => /%matplotlib dropped/.test(n)));
    assert.ok(out.notes.some((n) => /df\.head\(\)/.test(n)));

    const dir = path.join(ws, 'pipe');
    for (const f of ['pipeline.py', 'pipeline.yaml', 'params.yaml', 'common.py', 'steps/__init__.py', 'steps/train.py']) assert.ok(fs.existsSync(path.join(dir, f)), f);
    const trainPy = read(path.join(dir, 'steps', 'train.py'));
    assert.match(trainPy, /^def train\(X, y, n_trees, params\):/m);
    assert.match(trainPy, /RandomForestClassifier\(n_estimators=n_trees, max_depth=params\['max_depth'\]/);
    assert.match(trainPy, /from sklearn.ensemble import RandomForestClassifier/);
    assert.doesNotMatch(trainPy, /import pandas|load_iris|matplotlib/, 'only the imports the step uses');
    assert.match(trainPy, /# notebook cell \[\d+\] \(id [0-9a-f]{8}\)/);
    assert.deepEqual(JSON.parse(read(path.join(dir, 'pipeline.yaml'))).steps.find((s: { name: string }) => s.name === 'evaluate').deps.sort(), ['train']);

    const flakes = py(['-m', 'pyflakes', dir], ws);
    assert.equal(flakes.code, 0, flakes.stdout);

    const first = py(['pipeline.py'], dir);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /accuracy: 0\.\d+/);
    const again = py(['pipeline.py'], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stderr.match(/unchanged, skipped/g) ?? []).length, 5, again.stderr);

    fs.writeFileSync(path.join(dir, 'params.yaml'), read(path.join(dir, 'params.yaml')).replace('max_depth: 4', 'max_depth: 2'));
    const changed = py(['pipeline.py'], dir);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stderr, /load_the_data: unchanged, skipped/);
    assert.match(changed.stderr, /train: running/);
    assert.match(changed.stderr, /evaluate: running/);
  });

  it('--verify runs notebook and pipeline as tracked runs and finds every step equal (global RNG, in-place edits, functions reading globals)', () => {
    const { ws, nb } = withNotebook('titanic_cleaning.ipynb');
    const r = extract(ws, [nb, '--out', 'pipe', '--verify']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const v = r.json!.verify!;
    assert.equal(v.ok, true, JSON.stringify(v.steps));
    assert.equal(v.notebookOk, true);
    assert.equal(v.steps.length, r.json!.steps.length);
    for (const s of v.steps) assert.match(s.detail, /value\(s\) equal, printed output equal/);
    // The function reading the global AGE_BINS went to common.py; the step hands the value over.
    const common = read(path.join(ws, 'pipe', 'common.py'));
    assert.match(common, /^AGE_BINS = None$/m);
    assert.match(common, /^def age_group\(age\):/m);
    assert.match(read(path.join(ws, 'pipe', 'steps', 'cleaning.py')), /_common\.set_globals\(AGE_BINS=AGE_BINS\)/);

    const runs = JSON.parse(runCli(['runs', '--all', '--json'], { cwd: ws }).stdout) as { runs: { id: string; kind: string; parentId: string | null; status: string }[] };
    const pipeline = runs.runs.find((x) => x.id === v.pipelineRun)!;
    assert.equal(pipeline.kind, 'pipeline');
    assert.equal(pipeline.status, 'finished');
    const children = runs.runs.filter((x) => x.parentId === v.pipelineRun);
    assert.equal(children.length, r.json!.steps.length);
    assert.ok(children.every((c) => c.kind === 'step' && c.status === 'finished'));
    assert.equal(runs.runs.find((x) => x.id === v.notebookRun)!.kind, 'notebook');
    // Each step's child run records the parameters it read from params.yaml.
    const model = runs.runs.find((x) => x.parentId === v.pipelineRun && (x as { name?: string }).name === 'model')!;
    const shown = JSON.parse(runCli(['show', model.id, '--json'], { cwd: ws }).stdout) as { params: Record<string, string>; code: { path: string }[] };
    assert.deepEqual(shown.params, { C: '0.5', max_iter: '500', random_state: '7', test_size: '0.2' });
    assert.ok(shown.code.some((c) => c.path.endsWith('steps/model.py')));
  });

  it('labbook run -- python pipeline.py records a pipeline run with a child run per step; unchanged steps are tagged skipped', () => {
    const { ws, nb } = withNotebook('knn_scratch.ipynb');
    assert.equal(extract(ws, [nb, '--out', 'pipe']).code, 0);
    const dir = path.join(ws, 'pipe');
    const run = () => runCli(['-C', ws, 'run', '--python', PY, '--json', '--', 'python', 'pipeline.py'], { cwd: dir });
    const first = run();
    assert.equal(first.code, 0, first.stderr);
    const r1 = JSON.parse(first.stdout) as { run: { id: string; status: string }; steps: { name: string; runId: string; status: string }[] };
    assert.equal(r1.run.status, 'finished');
    assert.deepEqual(r1.steps.map((s) => s.status), ['finished', 'finished', 'finished', 'finished']);
    assert.match(first.stdout + first.stderr, /with noise:/);
    const r2 = JSON.parse(run().stdout) as typeof r1;
    assert.deepEqual(r2.steps.map((s) => s.status), ['skipped', 'skipped', 'skipped', 'skipped']);
    const all = JSON.parse(runCli(['runs', '--all', '--json'], { cwd: ws }).stdout) as { runs: { id: string; kind: string; parentId: string | null }[] };
    assert.equal(all.runs.filter((x) => x.parentId === r2.run.id && x.kind === 'step').length, 4);
    const shown = JSON.parse(runCli(['show', r2.steps[0].runId, '--json'], { cwd: ws }).stdout) as { tags: string[] };
    assert.ok(shown.tags.includes('skipped'));
  });

  it('--verify reports the step whose values differ and exits 1 (unseeded randomness)', () => {
    const ws = tempWorkspace('labbook-extract-');
    const nb = writeNotebook(ws, 'noisy.ipynb', [
      { md: '# Noisy' },
      { code: 'import numpy as np' },
      { md: '## Data' },
      { code: 'values = np.arange(5) * 2\nprint(values.sum())' },
      { md: '## Noise' },
      { code: 'noise = np.random.rand(3)' },
      { md: '## Report' },
      { code: 'print("done")' },
    ]);
    const r = extract(ws, [nb, '--out', 'pipe', '--verify']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /does not reproduce the notebook \(1 step\(s\) differ\)/);
    const steps = r.json!.verify!.steps;
    assert.deepEqual(steps.map((s) => [s.name, s.ok]), [['data', true], ['noise', false], ['report', true]]);
    assert.match(steps[1].detail, /noise: arrays differ/);
  });

  it('refuses cells that do not parse (Python 2, exercise stubs) with the cell and the message, writing nothing', () => {
    for (const [name, cell] of [['python2_print.ipynb', 2], ['exercise_stub.ipynb', 2]] as const) {
      const ws = tempWorkspace('labbook-extract-');
      fs.copyFileSync(path.join(CORPUS, 'refuse', name), path.join(ws, name));
      const r = extract(ws, [name, '--out', 'pipe']);
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, new RegExp(`cell ${cell}: line 1: .*(syntax|Missing parentheses)`, 'i'));
      assert.match(r.stderr, /Nothing was written/);
      assert.equal(fs.existsSync(path.join(ws, 'pipe')), false);
    }
  });

  it('does not overwrite existing files without --force', () => {
    const { ws, nb } = withNotebook('knn_scratch.ipynb');
    assert.equal(extract(ws, [nb, '--out', 'pipe']).code, 0);
    const params = path.join(ws, 'pipe', 'params.yaml');
    fs.appendFileSync(params, '# my edit\n');
    const r = extract(ws, [nb, '--out', 'pipe']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already has .*nothing written \(use --force/);
    assert.match(read(params), /# my edit/);
    assert.equal(extract(ws, [nb, '--out', 'pipe', '--force']).code, 0);
    assert.doesNotMatch(read(params), /# my edit/);
  });

  it('translates notebook-only code: star imports resolved, magics, pip lines to requirements.txt, one-line loops, display-only dropped', () => {
    const ws = tempWorkspace('labbook-extract-');
    const nb = writeNotebook(ws, 'magic.ipynb', [
      { code: '!pip install --quiet tabulate==0.9\n%matplotlib inline\nfrom math import *\nimport numpy as np' },
      { md: '## Compute' },
      { code: '%%time\nvals = []\nfor i in range(4): vals.append(sqrt(i))\nvals' },
      { md: '## Use' },
      { code: '%time total = floor(sum(vals) * 100)\nprint(total, np.pi > 3)' },
    ]);
    const r = extract(ws, [nb, '--out', 'pipe']);
    assert.equal(r.code, 0, r.stderr);
    const dir = path.join(ws, 'pipe');
    assert.equal(read(path.join(dir, 'requirements.txt')).trim().split('\n').pop(), 'tabulate==0.9');
    const compute = read(path.join(dir, 'steps', 'compute.py'));
    assert.match(compute, /^from math import sqrt$/m);
    assert.doesNotMatch(compute, /import \*|%%time|^\s+vals$/m);
    assert.match(compute, /for i in range\(4\): vals\.append\(sqrt\(i\)\)/);
    const use = read(path.join(dir, 'steps', 'use.py'));
    assert.match(use, /^from math import floor$/m);
    assert.match(use, /^ {4}total = floor\(sum\(vals\) \* 100\)$/m);
    assert.ok(r.json!.warnings.some((w) => /'from math import \*' resolved to floor, sqrt/.test(w)));
    assert.equal(py(['-m', 'pyflakes', dir], ws).code, 0);
    const run = py(['pipeline.py'], dir);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), '414 True');
  });

  it('keeps the code exact: non-ASCII text before a lifted literal, multi-line strings, magics inside blocks', () => {
    const ws = tempWorkspace('labbook-extract-');
    const nb = writeNotebook(ws, 'exact.ipynb', [
      { code: 'from sklearn.linear_model import Ridge\nimport numpy as np' },
      { md: '## Fit' },
      { code: 'titre = "température °C"; model = Ridge(alpha=0.25)\nmodel.fit(np.arange(6).reshape(3, 2), [1.0, 2.0, 3.0])' },
      { md: '## Report' },
      { code: 'text = """first line\n  indented line"""\nif model.alpha > 0:\n    %time coef = model.coef_.round(3)\n    print(titre, text, list(coef))' },
    ]);
    const r = extract(ws, [nb, '--out', 'pipe']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json!.params, { alpha: 0.25 });
    const dir = path.join(ws, 'pipe');
    assert.match(read(path.join(dir, 'steps', 'fit.py')), /titre = "température °C"; model = Ridge\(alpha=params\['alpha'\]\)/);
    const run = py(['pipeline.py'], dir);
    assert.equal(run.code, 0, run.stderr);
    const expected = py(['-c', 'import numpy as np\nfrom sklearn.linear_model import Ridge\nm = Ridge(alpha=0.25).fit(np.arange(6).reshape(3, 2), [1.0, 2.0, 3.0])\nprint("température °C", "first line\\n  indented line", list(m.coef_.round(3)))'], ws);
    assert.equal(run.stdout, expected.stdout);
  });

  it('splits by step:<name> tags, by cells, or by an explicit --plan; bad plans and usage are refused', () => {
    const ws = tempWorkspace('labbook-extract-');
    const nb = writeNotebook(ws, 'tagged.ipynb', [
      { code: 'a = 1', tags: ['step:load'] },
      { code: 'b = a + 1' },
      { code: 'c = b * 3', tags: ['step:model'] },
      { code: 'print(c)' },
    ]);
    assert.deepEqual(extract(ws, [nb, '--out', 't1', '--split', 'tags']).json!.steps.map((s) => [s.name, s.cells]), [['load', [0, 1]], ['model', [2, 3]]]);
    assert.deepEqual(extract(ws, [nb, '--out', 't2', '--split', 'cells']).json!.steps.map((s) => s.name), ['cell_0', 'cell_1', 'cell_2', 'cell_3']);
    fs.writeFileSync(path.join(ws, 'plan.json'), JSON.stringify([{ name: 'first', cells: [0] }, { name: 'rest', cells: [1, 2, 3] }]));
    const planned = extract(ws, [nb, '--out', 't3', '--plan', 'plan.json']).json!;
    assert.deepEqual(planned.steps.map((s) => [s.name, s.inputs, s.outputs]), [['first', [], ['a']], ['rest', ['a'], ['b', 'c']]]);
    fs.writeFileSync(path.join(ws, 'bad.json'), JSON.stringify([{ name: 'class', cells: [0, 1, 2, 3] }]));
    const bad = extract(ws, [nb, '--out', 't4', '--plan', 'bad.json']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /'class' cannot name a step/);
    assert.equal(runCli(['extract', nb], { cwd: ws }).code, 2);
    assert.equal(runCli(['extract', nb, '--out', 'x', '--split', 'chapters'], { cwd: ws }).code, 2);
  });

  it('keeps a generator and the steps that consume it in one step (generators cannot be saved between steps)', () => {
    const ws = tempWorkspace('labbook-extract-');
    const nb = writeNotebook(ws, 'gen.ipynb', [
      { md: '## Source' },
      { code: 'def numbers(n):\n    for i in range(n):\n        yield i * i\nstream = numbers(5)\nfirst = next(stream)' },
      { md: '## Unrelated' },
      { code: 'label = "squares"' },
      { md: '## Consume' },
      { code: 'rest = list(stream)\nprint(label, first, rest)' },
    ]);
    const r = extract(ws, [nb, '--out', 'pipe']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json!.steps.map((s) => [s.name, s.cells]), [['source', [1, 3, 5]]]);
    assert.ok(r.json!.warnings.some((w) => /steps source, unrelated, consume merged into one: 'stream' is a generator/.test(w)));
    const run = py(['pipeline.py'], path.join(ws, 'pipe'));
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'squares 0 [1, 4, 9, 16]');
  });

  it('never loads an intermediate it did not write: a replaced pickle is refused', () => {
    const { ws, nb } = withNotebook('logreg_gradient_descent.ipynb');
    assert.equal(extract(ws, [nb, '--out', 'pipe']).code, 0);
    const dir = path.join(ws, 'pipe');
    assert.equal(py(['pipeline.py'], dir).code, 0);
    const meta = JSON.parse(read(path.join(dir, '.pipeline', 'data', 'meta.json'))) as { outputs: Record<string, { file: string }> };
    const target = path.join(dir, '.pipeline', 'data', meta.outputs.X.file);
    fs.writeFileSync(target, Buffer.from('cos\nsystem\n(S"echo pwned"\ntR.'));
    const r = py(['pipeline.py', '--step', 'training', '--force'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /output 'X' of step 'data' changed since the step wrote it; refusing to load it/);
    assert.doesNotMatch(r.stdout, /pwned/);
  });
});
