/**
 * `labbook run` end to end: the real CLI, Debian's Python 3 (with numpy), a git repository,
 * data files, a config file and a workspace module — and what ends up in the store.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import type { RunJson } from '../../server/core/runJson';
import { CLI, tempWorkspace } from './helpers';

const PY = '/usr/bin/python3';

function cli(args: string[], cwd: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function show(ws: string, id: string): RunJson {
  const r = cli(['show', id, '--json', '-C', ws], ws);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as RunJson;
}

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

function project(): string {
  const ws = tempWorkspace('labbook-track-');
  const w = (f: string, s: string) => {
    fs.mkdirSync(path.dirname(path.join(ws, f)), { recursive: true });
    fs.writeFileSync(path.join(ws, f), s);
  };
  w('data/train.csv', 'x,y\n1,2\n3,4\n5,6\n');
  w('config.yaml', 'model:\n  depth: 3\nseed: 7\n');
  w('utils.py', 'def decay(lr, epoch):\n    return round(1.0 / (1 + lr * 10 * epoch), 6)\n');
  w(
    'train.py',
    [
      'import argparse, csv, json',
      'import labbook, utils',
      'p = argparse.ArgumentParser()',
      "p.add_argument('--lr', type=float, default=0.1)",
      "p.add_argument('--epochs', type=int, default=3)",
      "p.add_argument('--config')",
      'a = p.parse_args()',
      "rows = list(csv.reader(open('data/train.csv')))",
      "labbook.log_param('rows', len(rows) - 1)",
      'for e in range(a.epochs):',
      "    labbook.log_metric('loss', utils.decay(a.lr, e))",
      "labbook.log_confusion_matrix(['cat', 'dog'], [[3, 1], [0, 4]])",
      "open('model.json', 'w').write(json.dumps({'lr': a.lr}))",
      "print('trained', a.epochs, 'epochs')",
      '',
    ].join('\n'),
  );
  const git = (...args: string[]) => execFileSync('git', args, { cwd: ws, stdio: 'ignore' });
  git('init', '-q');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'add', '.');
  git('-c', 'user.email=t@example.com', '-c', 'user.name=t', 'commit', '-qm', 'start');
  // An uncommitted change the run must carry.
  fs.appendFileSync(path.join(ws, 'utils.py'), '# tuned\n');
  return ws;
}

describe('labbook run: a Python script', () => {
  const ws = project();
  const r = cli(['run', '--json', '-p', 'epochs=4', '--python', PY, '--name', 'baseline', '--', 'python', 'train.py', '--lr', '0.05', '--config', 'config.yaml'], ws);
  const id = r.code === 0 ? (JSON.parse(r.stdout) as { run: { id: string } }).run.id : '';

  it('prints {"run":{"id","status"}} and exits 0', () => {
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { run: { id: string; status: string; name: string } };
    assert.match(out.run.id, /^[0-9a-f]{8}$/);
    assert.equal(out.run.status, 'finished');
    assert.equal(out.run.name, 'baseline');
    assert.match(r.stderr, /trained 4 epochs/, 'the script’s stdout goes to stderr under --json');
  });

  it('records parameters from the command line, the config file, the override and log_param', () => {
    const run = show(ws, id);
    assert.deepEqual(run.params, { lr: '0.05', epochs: '4', config: 'config.yaml', 'model.depth': '3', seed: '7', rows: '3' });
    assert.deepEqual(run.paramSources, { lr: 'cli', epochs: 'override', config: 'cli', 'model.depth': 'config', seed: 'config', rows: 'logged' });
    assert.match(run.command ?? '', /train\.py --lr 0\.05 --config config\.yaml --epochs 4$/);
  });

  it('records step-wise metrics and a confusion matrix', () => {
    const run = show(ws, id);
    assert.deepEqual(run.metrics.loss, [0, 1, 2, 3].map((e) => ({ step: e, value: Math.round(1e6 / (1 + 0.05 * 10 * e)) / 1e6 })));
    const cm = run.artifacts.find((a) => a.kind === 'confusion-matrix');
    assert.ok(cm, 'confusion matrix kept');
  });

  it('hashes the data it read and keeps what it wrote', () => {
    const run = show(ws, id);
    assert.deepEqual(run.inputs.map((i) => [i.path, i.sha256, i.size]), [['data/train.csv', sha(path.join(ws, 'data/train.csv')), 16]]);
    const model = run.artifacts.find((a) => a.path === 'model.json');
    assert.deepEqual(model && [model.kind, model.sha256], ['output', sha(path.join(ws, 'model.json'))]);
    const stdout = run.artifacts.find((a) => a.path === 'stdout.log');
    assert.equal(stdout?.kind, 'log');
  });

  it('records the script, the workspace module it imported and the config, content-addressed', () => {
    const run = show(ws, id);
    const code = Object.fromEntries(run.code.map((c) => [c.path, [c.kind, c.sha256]]));
    assert.deepEqual(code['train.py'], ['script', sha(path.join(ws, 'train.py'))]);
    assert.deepEqual(code['utils.py'], ['module', sha(path.join(ws, 'utils.py'))]);
    assert.deepEqual(code['config.yaml'], ['config', sha(path.join(ws, 'config.yaml'))]);
    assert.ok(!Object.keys(code).some((p) => p.includes('labbook/') || p.startsWith('/usr/')), Object.keys(code).join(', '));
  });

  it('records the environment: interpreter, packages, OS, git commit and the uncommitted diff', () => {
    const run = show(ws, id);
    const env = run.environment!;
    assert.equal(env.python?.version, execFileSync(PY, ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim());
    assert.equal(env.python?.executable, PY);
    assert.match(env.packages.numpy ?? '', /^\d+\.\d+/);
    assert.ok(env.os && env.cpu && env.memoryBytes);
    assert.equal(env.git.commit, execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ws, encoding: 'utf8' }).trim());
    assert.equal(env.git.dirty, true);
    const diff = fs.readFileSync(path.join(ws, '.labbook', 'blobs', env.git.diffSha256!.slice(0, 2), env.git.diffSha256!.slice(2)), 'utf8');
    assert.match(diff, /^\+# tuned$/m);
  });

  it('labbook runs lists it as finished', () => {
    const list = JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout) as { runs: { id: string; status: string }[] };
    assert.deepEqual(list.runs.map((x) => [x.id, x.status]), [[id, 'finished']]);
  });
});

describe('labbook run: failures', () => {
  it('a failing script: run failed with its exit code, metrics before the failure kept, exit 1', () => {
    const ws = tempWorkspace('labbook-track-');
    fs.writeFileSync(path.join(ws, 'boom.py'), "import labbook, sys\nlabbook.log_metric('loss', 0.5)\nsys.exit(3)\n");
    const r = cli(['run', '--python', PY, '--', 'python', 'boom.py'], ws);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /run [0-9a-f]{8} failed \(exit 3\)/);
    const list = JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout) as { runs: { id: string; status: string; exitCode: number }[] };
    assert.deepEqual([list.runs[0].status, list.runs[0].exitCode], ['failed', 3]);
    assert.deepEqual(show(ws, list.runs[0].id).metrics.loss, [{ step: 0, value: 0.5 }]);
  });

  it('a missing interpreter or script: one clear line, nothing recorded', () => {
    const ws = tempWorkspace('labbook-track-');
    fs.writeFileSync(path.join(ws, 'ok.py'), 'print(1)\n');
    const noPy = cli(['run', '--python', '/nonexistent/python3', '--', 'python', 'ok.py'], ws);
    assert.equal(noPy.code, 1);
    assert.match(noPy.stderr.trim(), /^labbook: Python interpreter '\/nonexistent\/python3' not found: set labbook\.python\.path/);
    const noScript = cli(['run', '--python', PY, '--', 'python', 'missing.py'], ws);
    assert.equal(noScript.code, 1);
    assert.match(noScript.stderr.trim(), /^labbook: script missing\.py not found in /);
    assert.deepEqual(JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout).runs, []);
  });

  it('a killed process: run crashed, everything logged before is kept', async () => {
    const ws = tempWorkspace('labbook-track-');
    fs.writeFileSync(path.join(ws, 'slow.py'), "import labbook, time, os\nlabbook.log_metric('loss', 1.0)\nlabbook.log_metric('loss', 0.8)\nprint('pid', os.getpid(), flush=True)\ntime.sleep(60)\n");
    const child = spawn(process.execPath, [CLI, 'run', '--python', PY, '--', 'python', 'slow.py'], { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const pyPid = await new Promise<number>((resolve) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = /pid (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
    });
    process.kill(pyPid, 'SIGKILL');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 1);
    const list = JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout) as { runs: { id: string; status: string }[] };
    assert.equal(list.runs[0].status, 'crashed');
    assert.deepEqual(show(ws, list.runs[0].id).metrics.loss.map((p) => p.value), [1.0, 0.8]);
  });

  it('10 MB of output: passed through, kept bounded with a marker', () => {
    const ws = tempWorkspace('labbook-track-');
    fs.writeFileSync(path.join(ws, 'loud.py'), "import sys\nfor i in range(200000):\n    sys.stdout.write('x' * 49 + '\\n')\n");
    const r = cli(['run', '--python', PY, '--', 'python', 'loud.py'], ws);
    assert.equal(r.code, 0, r.stderr.slice(-500));
    assert.equal(r.stdout.length, 10_000_000);
    const id = (JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout) as { runs: { id: string }[] }).runs[0].id;
    const log = show(ws, id).artifacts.find((a) => a.path === 'stdout.log')!;
    assert.ok(log.size! < 2.2 * 1024 * 1024, `kept ${log.size} bytes`);
    const text = fs.readFileSync(path.join(ws, '.labbook', 'blobs', log.sha256!.slice(0, 2), log.sha256!.slice(2)), 'utf8');
    assert.match(text, /\[… labbook: \d+ bytes of output omitted …\]/);
  });

  it('a file that vanishes before it is hashed is recorded as unhashable', () => {
    const ws = tempWorkspace('labbook-track-');
    fs.writeFileSync(path.join(ws, 'tmp.py'), "import os\nopen('scratch.txt', 'w').write('hello')\nprint(open('scratch.txt').read())\nos.remove('scratch.txt')\n");
    const r = cli(['run', '--python', PY, '--', 'python', 'tmp.py'], ws);
    assert.equal(r.code, 0, r.stderr);
    const id = (JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout) as { runs: { id: string }[] }).runs[0].id;
    const input = show(ws, id).inputs.find((i) => i.path === 'scratch.txt');
    assert.ok(input, 'the read is recorded');
    assert.equal(input.sha256, null);
    assert.match(input.error ?? '', /gone before it could be hashed/);
  });
});

function notebook(cells: { source: string; tags?: string[] }[]): string {
  return JSON.stringify({
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    cells: cells.map((c, i) => ({ cell_type: 'code', id: `c${i}`, execution_count: null, metadata: c.tags ? { tags: c.tags } : {}, outputs: [], source: c.source })),
  });
}

describe('labbook run NOTEBOOK.ipynb', () => {
  it('executes in a real kernel with injected parameters; keeps the executed notebook and cell times', () => {
    const ws = tempWorkspace('labbook-nb-');
    fs.writeFileSync(path.join(ws, 'data.csv'), 'a\n1\n2\n3\n');
    fs.writeFileSync(
      path.join(ws, 'analysis.ipynb'),
      notebook([
        { source: "alpha = 0.1\nlabel = 'base'", tags: ['parameters'] },
        { source: "import labbook, csv\nrows = list(csv.DictReader(open('data.csv')))\ntotal = sum(int(r['a']) for r in rows)\nlabbook.log_metric('score', alpha * total)\nprint(label, total)" },
      ]),
    );
    const r = cli(['run', 'analysis.ipynb', '-p', 'alpha=0.5', '-p', 'label=tuned', '--python', PY, '--json'], ws);
    assert.equal(r.code, 0, r.stderr);
    const id = (JSON.parse(r.stdout) as { run: { id: string } }).run.id;
    const run = show(ws, id);
    assert.equal(run.kind, 'notebook');
    assert.equal(run.name, 'analysis');
    assert.deepEqual(run.params, { alpha: '0.5', label: 'tuned' });
    assert.deepEqual(run.paramSources, { alpha: 'injected', label: 'injected' });
    assert.deepEqual(run.metrics.score, [{ step: 0, value: 3 }]);
    assert.deepEqual(run.inputs.map((i) => i.path), ['data.csv'], 'data read inside the kernel is hashed');
    assert.deepEqual(run.code.map((c) => [c.path, c.kind]), [['analysis.ipynb', 'notebook']]);
    const executed = run.artifacts.find((a) => a.kind === 'notebook')!;
    const nb = JSON.parse(fs.readFileSync(path.join(ws, '.labbook', 'blobs', executed.sha256!.slice(0, 2), executed.sha256!.slice(2)), 'utf8')) as { cells: { metadata: { tags?: string[] }; outputs: { text?: string | string[] }[] }[] };
    assert.ok(nb.cells.some((c) => c.metadata.tags?.includes('injected-parameters')), 'injected cell after the parameters cell');
    assert.match(JSON.stringify(nb.cells.at(-1)!.outputs), /tuned 6/);
    const cells = run.artifacts.find((a) => a.path === 'cells.json');
    assert.ok(cells, 'per-cell times kept');
    assert.match(run.command ?? '', /^labbook run analysis\.ipynb -p alpha=0\.5 -p label=tuned$/);
  });

  it('a failing cell fails the run with its index and error; metrics before it are kept', () => {
    const ws = tempWorkspace('labbook-nb-');
    fs.writeFileSync(path.join(ws, 'bad.ipynb'), notebook([{ source: "import labbook\nlabbook.log_metric('m', 1)" }, { source: "raise ValueError('no good')" }, { source: 'print(1)' }]));
    const r = cli(['run', 'bad.ipynb', '--python', PY], ws);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cell 1 failed: ValueError: no good/);
    const list = JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout) as { runs: { id: string; status: string }[] };
    assert.equal(list.runs[0].status, 'failed');
    assert.deepEqual(show(ws, list.runs[0].id).metrics.m, [{ step: 0, value: 1 }]);
  });

  it('a kernel that dies mid-run: run failed, what it logged before is kept', () => {
    const ws = tempWorkspace('labbook-nb-');
    fs.writeFileSync(path.join(ws, 'dies.ipynb'), notebook([{ source: "import labbook\nlabbook.log_metric('before', 7)" }, { source: 'import os\nos._exit(1)' }, { source: "labbook.log_metric('after', 1)" }]));
    const r = cli(['run', 'dies.ipynb', '--python', PY], ws);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cell 1 failed: DeadKernelError/);
    const list = JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout) as { runs: { id: string; status: string }[] };
    assert.equal(list.runs[0].status, 'failed');
    const run = show(ws, list.runs[0].id);
    assert.deepEqual(run.metrics.before, [{ step: 0, value: 7 }]);
    assert.equal(run.metrics.after, undefined);
  });

  it('invalid notebook JSON: error with line and column, nothing recorded', () => {
    const ws = tempWorkspace('labbook-nb-');
    fs.writeFileSync(path.join(ws, 'broken.ipynb'), '{\n  "cells": [\n    {"cell_type": "code",,}\n  ]\n}\n');
    const r = cli(['run', 'broken.ipynb', '--python', PY], ws);
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^labbook: .*broken\.ipynb is not valid notebook JSON at line 3, column \d+/);
    assert.equal(fs.existsSync(path.join(ws, '.labbook', 'labbook.db')) ? (JSON.parse(cli(['runs', '--json', '-C', ws], ws).stdout) as { runs: unknown[] }).runs.length : 0, 0);
  });
});

describe('labbook rerun', () => {
  function sumProject(): { ws: string; id: string } {
    const ws = tempWorkspace('labbook-rerun-');
    fs.writeFileSync(path.join(ws, 'data.csv'), 'v\n1\n2\n3\n');
    fs.writeFileSync(path.join(ws, 'total.py'), "import argparse, labbook\np = argparse.ArgumentParser()\np.add_argument('--scale', type=float, default=1)\na = p.parse_args()\nvals = [float(l) for l in open('data.csv').read().split()[1:]]\nlabbook.log_metric('total', a.scale * sum(vals))\n");
    const r = cli(['run', '--json', '--python', PY, '--', 'python', 'total.py', '--scale', '2'], ws);
    assert.equal(r.code, 0, r.stderr);
    return { ws, id: (JSON.parse(r.stdout) as { run: { id: string } }).run.id };
  }

  it('same command and params, recorded as a child of the original: reproduced', () => {
    const { ws, id } = sumProject();
    const r = cli(['rerun', id, '--json'], ws);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { run: { id: string; status: string }; original: string; verdict: { reproduced: boolean; dataChanged: unknown[] } };
    assert.equal(out.original, id);
    assert.equal(out.verdict.reproduced, true);
    assert.deepEqual(out.verdict.dataChanged, []);
    assert.match(r.stderr, /reproduced: run [0-9a-f]{8} matches/);
    const again = show(ws, out.run.id);
    assert.equal(again.parentId, id);
    assert.deepEqual(again.params, { scale: '2' });
    assert.deepEqual(show(ws, id).children, [out.run.id]);
  });

  it('warns that data changed and says which metric moved: exit 1', () => {
    const { ws, id } = sumProject();
    const before = sha(path.join(ws, 'data.csv'));
    fs.writeFileSync(path.join(ws, 'data.csv'), 'v\n1\n2\n3\n4\n');
    const r = cli(['rerun', id], ws);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`data changed: data\\.csv \\(${before.slice(0, 12)} → ${sha(path.join(ws, 'data.csv')).slice(0, 12)}\\)`));
    assert.match(r.stderr, /not reproduced: total 12 → 20/);
  });

  it('re-runs a notebook with the parameters that were injected', () => {
    const ws = tempWorkspace('labbook-rerun-');
    fs.writeFileSync(path.join(ws, 'nb.ipynb'), notebook([{ source: 'k = 1', tags: ['parameters'] }, { source: "import labbook\nlabbook.log_metric('k2', k * 2)" }]));
    const first = cli(['run', 'nb.ipynb', '-p', 'k=21', '--python', PY, '--json'], ws);
    assert.equal(first.code, 0, first.stderr);
    const id = (JSON.parse(first.stdout) as { run: { id: string } }).run.id;
    const r = cli(['rerun', id, '--json'], ws);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { run: { id: string }; verdict: { reproduced: boolean } };
    assert.equal(out.verdict.reproduced, true);
    assert.deepEqual(show(ws, out.run.id).metrics.k2, [{ step: 0, value: 42 }]);
  });
});
