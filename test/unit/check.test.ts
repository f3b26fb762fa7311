import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { runCli, tempWorkspace } from './helpers';

const PY = '/usr/bin/python3';

function write(dir: string, name: string, cells: { md?: string; code?: string; n?: number | null }[]): string {
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {},
    cells: cells.map((c, i) =>
      c.md !== undefined
        ? { cell_type: 'markdown', id: `m${i}`, metadata: {}, source: c.md }
        : { cell_type: 'code', id: `c${i}`, metadata: {}, execution_count: c.n ?? null, outputs: [], source: c.code },
    ),
  };
  const f = path.join(dir, name);
  fs.writeFileSync(f, JSON.stringify(nb));
  return f;
}

describe('labbook check: hidden state in a saved notebook', () => {
  it('finds out-of-order and skipped cells, names only a later or no cell defines, and syntax errors', () => {
    const dir = tempWorkspace();
    write(dir, 'messy.ipynb', [
      { md: '# Analysis' },
      { code: 'import numpy as np\nx = 1', n: 1 },
      { code: 'y = x + z', n: 4 },
      { code: 'z = 2\ndef f(a):\n    return a + x', n: 2 },
      { code: 'total = y + helper(3)', n: null },
      { code: '%matplotlib inline\nsquares = [v * 2 for v in range(3)]\nprint(total, np.pi, f(1))', n: 6 },
      { code: 'def g(:', n: null },
    ]);
    const r = runCli(['check', 'messy.ipynb', '--json', '--python', PY], { cwd: dir });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /5 hidden-state problem\(s\)/);
    const { problems } = JSON.parse(r.stdout) as { problems: { cell: number; kind: string; message: string }[] };
    assert.deepEqual(
      problems.map((p) => [p.cell, p.kind]),
      [
        [2, 'later-definition'],
        [3, 'out-of-order'],
        [4, 'skipped'],
        [4, 'undefined-name'],
        [6, 'syntax'],
      ],
    );
    assert.match(problems[0].message, /uses 'z', which only a later cell \(3\) defines/);
    assert.match(problems[1].message, /ran as \[2\], before cell 2 above it ran as \[4\]/);
    assert.match(problems[3].message, /uses 'helper', which no cell defines/);
  });

  it('a notebook run top to bottom is clean: exit 0', () => {
    const dir = tempWorkspace();
    write(dir, 'clean.ipynb', [{ code: 'import math\nr = 2', n: 1 }, { code: 'area = math.pi * r ** 2\nprint(area)', n: 2 }]);
    const r = runCli(['check', 'clean.ipynb', '--python', PY], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /clean\.ipynb: no hidden state found/);
  });

  it('broken notebook JSON: exit 1 with the position', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'broken.ipynb'), '{"cells": [}');
    const r = runCli(['check', 'broken.ipynb'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not valid notebook JSON at line 1, column 12/);
  });
});
