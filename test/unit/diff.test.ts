/**
 * The notebook diff as a user meets it: each kind of change on the fixture pairs, the JSON
 * contract of `labbook diff --json`, git revisions and the git driver, runs' code, and bad input.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { diffNotebooks } from '../../server/notebook/diff';
import { parseNotebook } from '../../server/notebook/model';
import { diffText } from '../../server/notebook/textDiff';
import { Store } from '../../server/store/db';
import { type Notebook, code, image, notebook, pairs, png, stream, writePairs } from '../fixtures/diffPairs';
import { CLI, runCli, tempWorkspace } from './helpers';

const byName = new Map(pairs().map((p) => [p.name, p]));
const diffPair = (name: string, options = {}) => {
  const p = byName.get(name)!;
  return diffNotebooks(parseNotebook(JSON.stringify(p.a), `${name}.a`), parseNotebook(JSON.stringify(p.b), `${name}.b`), options);
};
const ops = (d: ReturnType<typeof diffPair>) => d.cells.map((c) => `${c.op}:${c.a ?? '-'}>${c.b ?? '-'}`);

interface JsonDiff {
  summary: Record<string, number>;
  cells: { op: string; a: number | null; b: number | null; source?: { lines: { op: string; text: string }[] }[]; outputs?: { op: string; kind: string; mimes?: { mime: string; image?: { a?: { width: number }; b?: { width: number } } }[] }[] }[];
}

describe('notebook diff: kinds of change', () => {
  it('an edited cell is modified, with the changed words marked inside the changed line', () => {
    const d = diffPair('edit');
    assert.deepEqual(d.summary, { added: 0, removed: 0, modified: 1, moved: 0, unchanged: 7 });
    const cell = d.cells.find((c) => c.op === 'modified')!;
    assert.equal(cell.b, 5);
    const minus = cell.source!.lines.find((l) => l.op === '-')!;
    const plus = cell.source!.lines.find((l) => l.op === '+')!;
    assert.deepEqual(minus.words!.filter((w) => w.op === '-').map((w) => w.text), ['1.0']);
    assert.deepEqual(plus.words!.filter((w) => w.op === '+').map((w) => w.text), ['0.5']);
  });

  it('an added and a removed cell sit where they are in the notebook', () => {
    assert.deepEqual(ops(diffPair('add')).slice(3, 6), ['unchanged:3>3', 'added:->4', 'unchanged:4>5']);
    assert.deepEqual(ops(diffPair('remove')).slice(2, 5), ['unchanged:2>2', 'removed:3>-', 'unchanged:4>3']);
  });

  it('a moved cell is one move, not a delete and an add; moved and edited keeps its hunks', () => {
    const m = diffPair('move');
    assert.deepEqual(m.summary, { added: 0, removed: 0, modified: 0, moved: 1, unchanged: 7 });
    assert.deepEqual(m.cells.find((c) => c.op === 'moved'), { ...m.cells.find((c) => c.op === 'moved'), a: 7, b: 3 });
    const me = diffPair('move-edit');
    assert.equal(me.summary.moved, 1);
    const moved = me.cells.find((c) => c.op === 'moved')!;
    assert.ok(moved.sourceChanged);
    assert.ok(moved.source!.lines.some((l) => l.op === '+' && l.text.includes('bins=30')));
  });

  it('an output-only change is a modified cell with output changes and no source hunks', () => {
    const d = diffPair('output-only');
    const cell = d.cells.find((c) => c.op === 'modified')!;
    assert.equal(cell.sourceChanged, false);
    assert.equal(cell.outputs![0].kind, 'stream:stdout');
    assert.ok(cell.outputs![0].mimes![0].text!.lines.some((l) => l.op === '+' && l.text === 'accuracy 0.7418'));
  });

  it('execution counts alone are unchanged by default and shown only when asked', () => {
    assert.equal(diffPair('exec-counts-only').summary.unchanged, 8);
    const shown = diffPair('exec-counts-only', { execCounts: true });
    assert.equal(shown.summary.modified, 6);
    assert.ok(shown.cells.every((c) => !c.outputsChanged), 'an execute_result count is not an output change');
  });

  it('metadata alone is unchanged by default and shown only when asked', () => {
    assert.equal(diffPair('metadata-only').summary.unchanged, 8);
    const shown = diffPair('metadata-only', { metadata: true });
    assert.deepEqual(shown.cells.filter((c) => c.op === 'modified').map((c) => c.metadata!.map((m) => m.key)), [['collapsed', 'scrolled', 'tags']]);
    assert.deepEqual(shown.notebookMetadata.map((m) => m.key), ['language_info']);
  });

  it('a changed image is reported with both pixel sizes, its text fallback unchanged', () => {
    const cell = diffPair('image').cells.find((c) => c.op === 'modified')!;
    const mimes = cell.outputs![0].mimes!;
    assert.deepEqual(mimes.map((m) => m.mime), ['image/png']);
    assert.deepEqual([mimes[0].image!.a!.width, mimes[0].image!.a!.height, mimes[0].image!.b!.width, mimes[0].image!.b!.height], [16, 12, 24, 12]);
  });

  it('a reorder of many cells keeps the longest in-order run in place and moves the rest', () => {
    const d = diffPair('reorder');
    assert.deepEqual(d.summary, { added: 0, removed: 0, modified: 0, moved: 6, unchanged: 6 });
    assert.deepEqual(d.cells.map((c) => c.b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'listed in the new order');
  });

  it('cells with ids on one side only are matched by content, with a note', () => {
    const d = diffPair('ids-one-side');
    assert.deepEqual(d.summary, { added: 0, removed: 0, modified: 1, moved: 0, unchanged: 7 });
    assert.match(d.warnings.join(), /only one side has cell ids/);
  });

  it('nbformat 3 is upgraded in memory: headings become markdown, prompt numbers counts', () => {
    const d = diffPair('nbformat3');
    assert.deepEqual(d.summary, { added: 0, removed: 0, modified: 1, moved: 0, unchanged: 2 });
    assert.match(d.warnings.join(), /nbformat 3: upgraded/);
  });

  it('ids win over content: a cell whose id stayed is the same cell even when rewritten', () => {
    const a = notebook([code('x = 1', { id: 'k' }), code('y = 2', { id: 'j' })]);
    const b = notebook([code('totally different', { id: 'k' }), code('y = 2', { id: 'j' })]);
    const d = diffNotebooks(parseNotebook(JSON.stringify(a), 'a'), parseNotebook(JSON.stringify(b), 'b'));
    assert.deepEqual(ops(d), ['modified:0>0', 'unchanged:1>1']);
  });

  it('split stream chunks compare equal to one chunk; ANSI colour in tracebacks is not a change', () => {
    const err = (tb: string[]) => ({ output_type: 'error', ename: 'ValueError', evalue: 'bad', traceback: tb });
    const a = notebook([code('f()', { id: 'x', outputs: [stream('one\n'), stream('two\n'), err(['\u001b[0;31mValueError\u001b[0m: bad'])] })]);
    const b = notebook([code('f()', { id: 'x', outputs: [stream('one\ntwo\n'), err(['ValueError: bad'])] })]);
    const d = diffNotebooks(parseNotebook(JSON.stringify(a), 'a'), parseNotebook(JSON.stringify(b), 'b'));
    assert.equal(d.summary.unchanged, 1);
  });
});

describe('notebook diff: scale', () => {
  it('2,000 cells with 50 MB of outputs diff in linear time (one edit, one move, one image change)', () => {
    const big = png(64, 64, (x, y) => [x * 4, y * 4, (x ^ y) & 255]);
    const cells = Array.from({ length: 2000 }, (_, i) =>
      code(`value_${i} = transform(data, ${i})\nprint(value_${i})`, { id: `c${i}`, outputs: [stream(`${'x'.repeat(24_000)} ${i}\n`), ...(i % 100 === 0 ? [image(big)] : [])] }),
    );
    const a = notebook(cells);
    const b = JSON.parse(JSON.stringify(a)) as Notebook;
    b.cells[10].source = ['value_10 = transform(data, 11)\n', 'print(value_10)'];
    b.cells.splice(1500, 0, b.cells.splice(20, 1)[0]);
    (b.cells.find((c) => c.id === 'c200')!.outputs![1] as { data: Record<string, string> }).data['image/png'] = png(32, 32, () => [0, 0, 0]);
    const ta = JSON.stringify(a);
    const tb = JSON.stringify(b);
    assert.ok(ta.length > 48e6, `fixture is ${ta.length} bytes`);
    const d = diffNotebooks(parseNotebook(ta, 'a'), parseNotebook(tb, 'b'));
    assert.deepEqual(d.summary, { added: 0, removed: 0, modified: 2, moved: 1, unchanged: 1997 });
  });

  it('a 100 MB text output is compared without aligning it line by line', () => {
    const huge = 'row\n'.repeat(25_000_000);
    const out = (text: string) => ({ output_type: 'stream', name: 'stdout', text });
    const a = notebook([code('print(df)', { id: 'p', outputs: [out(huge)] })]);
    const b = notebook([code('print(df)', { id: 'p', outputs: [out(huge.slice(4) + 'end\n')] })]);
    const d = diffNotebooks(parseNotebook(JSON.stringify(a), 'a'), parseNotebook(JSON.stringify(b), 'b'));
    assert.equal(d.summary.modified, 1);
    const text = d.cells[0].outputs![0].mimes![0].text!;
    assert.ok(text.lines.length <= 25_000_000, 'bounded');
    assert.ok(text.lines.some((l) => l.op === '+' && l.text === 'end'));
  });

  it('text diffs trim the shared head and tail before aligning', () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}`);
    const b = [...lines];
    b[100_000] = 'changed';
    const d = diffText(lines.join('\n'), b.join('\n'));
    assert.deepEqual(d.lines.filter((l) => l.op !== ' ').map((l) => `${l.op}${l.text}`), ['-line 100000', '+changed']);
  });
});

describe('notebook diff: bad input', () => {
  const refuse = (text: string, pattern: RegExp) => assert.throws(() => parseNotebook(text, 'nb.ipynb'), (e: Error) => pattern.test(e.message));
  it('truncated JSON names the line and column and says it looks truncated', () => {
    const text = JSON.stringify(notebook([code('x = 1')]), null, 1);
    refuse(text.slice(0, text.length / 2), /nb\.ipynb: not valid notebook JSON \(line \d+, column \d+.*truncated/);
  });
  it('a binary file, an empty file, JSON that is not a notebook, nbformat 2', () => {
    refuse('\u0089PNG\r\n\u001a\n\u0000\u0000\u0000\rIHDR', /binary file, not a notebook/);
    refuse('', /empty/);
    refuse('{"name": "package", "version": "1.0.0"}', /no 'nbformat'/);
    refuse('[1, 2]', /not an object/);
    refuse('{"nbformat": 2, "worksheets": []}', /nbformat 2 is not supported/);
    refuse('{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "code", "source": 5}]}', /cell 1's source is neither text/);
  });
  it('invalid base64 image data is reported on the image, not a crash', () => {
    const a = notebook([code('plot()', { id: 'p', outputs: [image(png(4, 4, () => [1, 2, 3]))] })]);
    const b = notebook([code('plot()', { id: 'p', outputs: [image('%%% not base64 %%%')] })]);
    const d = diffNotebooks(parseNotebook(JSON.stringify(a), 'a'), parseNotebook(JSON.stringify(b), 'b'));
    assert.match(d.cells[0].outputs![0].mimes![0].image!.b!.problem!, /not valid base64/);
  });
});

describe('labbook diff (CLI)', () => {
  const dir = tempWorkspace('labbook-diff-');
  writePairs(dir);

  it('--json follows the documented contract', () => {
    const r = runCli(['diff', 'move-edit.a.ipynb', 'move-edit.b.ipynb', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as JsonDiff;
    assert.deepEqual(Object.keys(j.summary).sort(), ['added', 'modified', 'moved', 'removed', 'unchanged']);
    const moved = j.cells.find((c) => c.op === 'moved')!;
    assert.deepEqual([moved.a, moved.b], [7, 3]);
    assert.ok(moved.source![0].lines.some((l) => l.op === '+' && /bins=30/.test(l.text)));
    const img = JSON.parse(runCli(['diff', 'image.a.ipynb', 'image.b.ipynb', '--json'], { cwd: dir }).stdout) as JsonDiff;
    const change = img.cells.find((c) => c.op === 'modified')!.outputs![0];
    assert.equal(change.mimes![0].image!.b!.width, 24);
  });

  it('terminal output folds unchanged cells and shows hunks and output changes', () => {
    const r = runCli(['diff', 'output-only.a.ipynb', 'output-only.b.ipynb'], { cwd: dir });
    assert.match(r.stdout, /1 modified · 0 added · 0 removed · 0 moved · 7 unchanged/);
    assert.match(r.stdout, /… 6 unchanged cells/);
    assert.match(r.stdout, /stream:stdout modified\n\s+@@ -1,1 \+1,1 @@\n\s+-accuracy 0.7342\n\s+\+accuracy 0.7418/);
  });

  it('a reader that stops early (| head -2) gets its lines and no error', () => {
    // Far more output than a pipe holds, so the CLI is still writing when head exits.
    const many = (v: number) => notebook(Array.from({ length: 3000 }, (_, i) => code(`x_${i} = ${v}`, { id: `k${i}` })));
    fs.writeFileSync(path.join(dir, 'many.a.ipynb'), JSON.stringify(many(1)));
    fs.writeFileSync(path.join(dir, 'many.b.ipynb'), JSON.stringify(many(2)));
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${CLI}" diff many.a.ipynb many.b.ipynb | head -2`], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.stdout, '--- many.a.ipynb\n+++ many.b.ipynb\n');
    assert.doesNotMatch(r.stderr, /EPIPE|Error/);
  });

  it('missing files, broken notebooks and bad usage get one clear line', () => {
    fs.writeFileSync(path.join(dir, 'broken.ipynb'), '{"nbformat": 4, "cells": [');
    const missing = runCli(['diff', 'nope.ipynb', 'edit.b.ipynb'], { cwd: dir });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /'nope\.ipynb' is not a file, a REV:path git revision/);
    const broken = runCli(['diff', 'broken.ipynb', 'edit.b.ipynb'], { cwd: dir });
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /broken\.ipynb: not valid notebook JSON \(line 1, column 27/);
    assert.equal(runCli(['diff', 'edit.a.ipynb'], { cwd: dir }).code, 2);
  });

  it('REV:path reads the notebook at a git revision; the git driver and difftool set-ups work', () => {
    const repo = tempWorkspace('labbook-diff-git-');
    const git = (...args: string[]) => {
      const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    git('init', '-q');
    fs.mkdirSync(path.join(repo, 'nb'));
    fs.copyFileSync(path.join(dir, 'edit.a.ipynb'), path.join(repo, 'nb', 'analysis.ipynb'));
    git('add', '.');
    git('commit', '-qm', 'first');
    fs.copyFileSync(path.join(dir, 'edit.b.ipynb'), path.join(repo, 'nb', 'analysis.ipynb'));
    const r = runCli(['diff', 'HEAD:analysis.ipynb', 'analysis.ipynb', '--json'], { cwd: path.join(repo, 'nb') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as JsonDiff).summary.modified, 1);
    const missing = runCli(['diff', 'HEAD:nb/other.ipynb', 'nb/analysis.ipynb'], { cwd: repo });
    assert.match(missing.stderr, /nb\/other\.ipynb does not exist at revision HEAD/);
    const badRev = runCli(['diff', 'v9:nb/analysis.ipynb', 'nb/analysis.ipynb'], { cwd: repo });
    assert.match(badRev.stderr, /'v9' is not a revision/);

    // As git's diff driver, configured the way the README says.
    fs.writeFileSync(path.join(repo, '.gitattributes'), '*.ipynb diff=labbook\n');
    git('config', 'diff.labbook.command', `${process.execPath} ${path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js')} diff --git-driver`);
    const out = git('diff');
    assert.match(out, /--- a\/nb\/analysis\.ipynb\n\+\+\+ b\/nb\/analysis\.ipynb\n1 modified/);
    assert.match(out, /-model = LogisticRegression\(C=1\.0, max_iter=200\)\n\+model = LogisticRegression\(C=0\.5/);
  });

  it('two runs: parameter and metric differences above their notebooks diffed cell by cell', () => {
    const ws = tempWorkspace('labbook-diff-runs-');
    const store = Store.open(ws, { create: true })!;
    const p = byName.get('edit')!;
    const ids: string[] = [];
    for (const [nb, lr, acc] of [[p.a, '0.1', 0.81], [p.b, '0.05', 0.84]] as const) {
      const run = store.createRun({ name: 'analysis', kind: 'notebook', command: 'analysis.ipynb', cwd: ws });
      store.logParams(run.id, { lr, seed: 42 }, 'cli');
      store.logMetrics(run.id, [{ key: 'accuracy', value: acc, step: 1, wallTime: Date.now() }]);
      store.addCode(run.id, { path: 'analysis.ipynb', kind: 'notebook', blob: store.putBlob(Buffer.from(JSON.stringify(nb))) });
      store.endRun(run.id, 'finished', 0);
      ids.push(run.id);
    }
    store.close();
    const r = runCli(['-C', ws, 'diff', ids[0], ids[1]], { cwd: ws });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /parameters: 1 differ, 1 identical\n\s+lr\s+0\.1 → 0\.05/);
    assert.match(r.stdout, /accuracy\s+0\.81 → 0\.84\s+\(\+0\.03\)/);
    assert.match(r.stdout, /notebook analysis\.ipynb: modified \(1 modified/);
    assert.match(r.stdout, /\+model = LogisticRegression\(C=0\.5/);
    // A run against a file: the run's notebook snapshot.
    fs.writeFileSync(path.join(ws, 'analysis.ipynb'), JSON.stringify(p.a));
    const vsFile = JSON.parse(runCli(['-C', ws, 'diff', ids[1], 'analysis.ipynb', '--json'], { cwd: ws }).stdout) as JsonDiff;
    assert.equal(vsFile.summary.modified, 1);
  });
});
