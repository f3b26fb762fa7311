/**
 * The server side of the views: downsampling and smoothing, evaluations (the evaluation.json
 * contract and log_confusion_matrix artifacts), comparisons, live progress, the store's run
 * search / key metric / tag / delete, and the view requests over JSON-RPC from the real server.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'child_process';
import { describe, it } from 'node:test';
import { StreamMessageReader, StreamMessageWriter, createMessageConnection, type ResponseError } from 'vscode-jsonrpc/node';
import { lttb, lttbIndexes, smooth } from '../../server/core/downsample';
import { formatAge } from '../../server/core/format';
import { CompareRunsRequest, DeleteRunRequest, EvaluatedRunsRequest, EvaluationRequest, ListRunsRequest, LiveRunRequest, RunsChangedNotification, ShowRunRequest, TagRunRequest, type RunsChangedParams } from '../../server/protocol/requests';
import { Store } from '../../server/store/db';
import { compareRuns, metricDirection } from '../../server/views/compare';
import { classMetrics, parseEvaluation, readEvaluation } from '../../server/views/evaluation';
import { eta, liveData, runProgress } from '../../server/views/live';
import { seedViews } from '../fixtures/views';
import { SERVER, runCli, seedWorkspace, tempWorkspace } from './helpers';

describe('LTTB downsampling and smoothing', () => {
  it('keeps first and last, the requested count, and a lone spike', () => {
    const n = 100_000;
    const xs = Array.from({ length: n }, (_, i) => i);
    const ys = xs.map((i) => (i === 54_321 ? 50 : Math.sin(i / 1000)));
    const keep = lttbIndexes(xs, ys, 500);
    assert.equal(keep.length, 500);
    assert.equal(keep[0], 0);
    assert.equal(keep[499], n - 1);
    assert.ok(keep.includes(54_321), 'the spike survives');
    assert.ok(keep.every((k, i) => i === 0 || k > keep[i - 1]), 'ascending');
  });

  it('never picks a gap, and leaves short series alone', () => {
    const xs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
    const ys = [1, null, 3, null, 5, 6, null, 8, 9, 10];
    assert.deepEqual(lttbIndexes(xs, ys, 100), [0, 2, 4, 5, 7, 8, 9]);
    const r = lttb(xs, ys, 4);
    assert.equal(r.xs.length, 4);
    assert.ok(r.ys.every((y) => y !== null));
  });

  it('smooths with a debiased moving average', () => {
    assert.deepEqual(smooth([1, 2, 3], 0), [1, 2, 3]);
    assert.deepEqual(smooth([4, 4, 4, 4], 0.9).map((v) => Number(v!.toFixed(9))), [4, 4, 4, 4]);
    const s = smooth([0, 10, null, 0], 0.5);
    assert.equal(s[0], 0);
    assert.equal(s[2], null);
    assert.ok(s[1]! > 0 && s[1]! < 10);
  });
});

describe('evaluations', () => {
  it('computes per-class precision, recall and F1 from a matrix (rows = actual)', () => {
    const m = classMetrics([
      [8, 2],
      [1, 9],
    ]);
    assert.deepEqual(m.map((c) => c.support), [10, 10]);
    assert.equal(m[0].precision, 8 / 9);
    assert.equal(m[0].recall, 0.8);
    assert.ok(Math.abs(m[0].f1! - (2 * (8 / 9) * 0.8) / (8 / 9 + 0.8)) < 1e-12);
    assert.deepEqual(classMetrics([[0, 0], [0, 3]])[0], { precision: null, recall: null, f1: null, support: 0 });
  });

  it('reads the evaluation.json contract and says plainly what is wrong with a bad one', () => {
    const ok = parseEvaluation({ version: 1, labels: ['a', 'b'], epochs: [{ epoch: 2, matrix: [[3, 1], [0, 4]] }, { epoch: 1, matrix: [[2, 2], [1, 3]] }], misclassified: [{ index: 7, actual: 0, predicted: 1, thumbnail: { width: 2, height: 1, pixels: [0, 300] } }, { actual: 5, predicted: 0 }] }, 'evaluation.json');
    assert.deepEqual(ok.epochs.map((e) => e.epoch), [1, 2], 'sorted by epoch');
    assert.equal(ok.epochs[1].accuracy, 7 / 8);
    assert.deepEqual(ok.examples[0].thumbnail, { width: 2, height: 1, channels: 1, pixels: [0, 255] });
    assert.equal(ok.examples.length, 1);
    assert.match(ok.warnings[0], /misclassified\[1\] skipped/);
    assert.throws(() => parseEvaluation({ labels: ['a', 'b'], epochs: [{ matrix: [[1, 2]] }] }, 'x.json'), /x\.json: epochs\[0\]\.matrix must have 2 rows/);
    assert.throws(() => parseEvaluation({ labels: ['a'], epochs: [{ matrix: [[-1]] }] }, 'x.json'), /is not a count/);
    assert.throws(() => parseEvaluation({ version: 2, labels: ['a'], epochs: [] }, 'x.json'), /version 2 is not supported/);
    const badThumb = parseEvaluation({ labels: ['a', 'b'], epochs: [{ matrix: [[1, 0], [0, 1]] }], misclassified: [{ actual: 0, predicted: 1, thumbnail: { width: 28, height: 28, pixels: [1, 2] } }] }, 'e');
    assert.equal(badThumb.examples[0].thumbnail, null);
    assert.match(badThumb.warnings[0], /thumbnail ignored/);
  });

  it('falls back to log_confusion_matrix artifacts, one per step, and refuses a run without either', () => {
    const ws = tempWorkspace();
    const store = Store.open(ws, { create: true })!;
    try {
      const run = store.createRun({ name: 'cm', kind: 'script' });
      for (const step of [2, 0, 1]) store.addContentArtifact(run.id, `confusion_matrix@${step}.json`, JSON.stringify({ labels: ['x', 'y'], matrix: [[5 + step, 5 - step], [1, 9]], step }), 'confusion-matrix');
      store.addContentArtifact(run.id, 'confusion_matrix@9.json', JSON.stringify({ labels: ['x', 'y', 'z'], matrix: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], step: 9 }), 'confusion-matrix');
      const ev = readEvaluation(store, run.id);
      assert.equal(ev.source, 'confusion-matrix artifacts');
      assert.deepEqual(ev.epochs.map((e) => e.epoch), [0, 1, 2]);
      assert.deepEqual(ev.epochs[2].matrix, [[7, 3], [1, 9]]);
      assert.match(ev.warnings.join(), /confusion_matrix@9\.json skipped: its labels differ/);
      const plain = store.createRun({ name: 'plain', kind: 'script' });
      assert.throws(() => readEvaluation(store, plain.id), /recorded no evaluation/);
      store.addContentArtifact(plain.id, 'evaluation.json', '{"labels": [', 'evaluation');
      assert.throws(() => readEvaluation(store, plain.id), /evaluation\.json of run [0-9a-f]{8} is not valid JSON/);
    } finally {
      store.close();
    }
  });
});

describe('comparison and live data', () => {
  it('guesses metric directions from names, overridable', () => {
    assert.equal(metricDirection('val_loss'), 'min');
    assert.equal(metricDirection('mse'), 'min');
    assert.equal(metricDirection('accuracy'), 'max');
    assert.equal(metricDirection('f1'), 'max');
    assert.equal(metricDirection('accuracy', { accuracy: 'min' }), 'min');
  });

  it('compares runs: params, best in each direction, data and packages, long curves downsampled', () => {
    const ws = tempWorkspace();
    const s = seedViews(ws, { steps: 3000 });
    const store = Store.open(ws)!;
    try {
      const d = compareRuns(store, { ids: [s.cnnA, s.cnnB], maxPoints: 1000 });
      assert.deepEqual(d.runs.map((r) => r.params.lr), ['0.01', '0.03']);
      const loss = d.runs[0].metrics.find((m) => m.key === 'loss')!;
      assert.equal(loss.best, loss.min);
      const acc = d.runs[0].metrics.find((m) => m.key === 'accuracy')!;
      assert.equal(acc.best, acc.max);
      assert.deepEqual([d.directions.loss, d.directions.accuracy], ['min', 'max']);
      assert.notEqual(d.runs[0].inputs.find((i) => i.path === 'data/train.csv')!.sha256, d.runs[1].inputs.find((i) => i.path === 'data/train.csv')!.sha256);
      assert.deepEqual([d.runs[0].environment!.packages.numpy, d.runs[1].environment!.packages.numpy], ['1.24.2', '1.26.4']);
      const series = d.runs[0].series.find((x) => x.key === 'loss')!;
      assert.equal(series.steps.length, 1000);
      assert.equal(series.downsampledFrom, 3000);
      assert.deepEqual([series.steps[0], series.steps[999]], [0, 2999]);
      assert.throws(() => compareRuns(store, { ids: [] }), /at least one run/);
      assert.throws(() => compareRuns(store, { ids: ['nope'] }), /No run 'nope'/);
    } finally {
      store.close();
    }
  });

  it('derives progress and ETA from declared epochs or steps', () => {
    const m = (key: string, last: number, lastStep: number) => ({ key, last, lastStep, min: 0, max: last, count: lastStep + 1 });
    assert.deepEqual(runProgress({ epochs: '10' }, [m('epoch', 4, 3), m('loss', 0.1, 399)]), { unit: 'epoch', done: 4, total: 10 });
    assert.deepEqual(runProgress({ total_steps: '1000' }, [m('loss', 0.1, 249)]), { unit: 'step', done: 250, total: 1000 });
    assert.deepEqual(runProgress({ epochs: '5' }, [m('val_acc', 0.9, 1)]), { unit: 'epoch', done: 2, total: 5 });
    assert.equal(runProgress({}, [m('loss', 1, 10)]), null);
    assert.equal(eta({ unit: 'epoch', done: 4, total: 10 }, 60), 90);
    assert.equal(eta(null, 60), null);
  });

  it('sends only points after what the view has, with samples/s and backend', () => {
    const ws = tempWorkspace();
    const s = seedViews(ws, { runningPid: process.pid });
    const store = Store.open(ws)!;
    try {
      const all = liveData(store, { id: s.running! }, () => true);
      assert.equal(all.series.find((x) => x.key === 'loss')!.steps.length, 40);
      assert.deepEqual([all.samplesPerS, all.backend, all.cancellable, all.progress?.done], [4812, 'wasm', true, 4]);
      const none = liveData(store, { id: s.running!, since: { loss: 39, accuracy: 39, epoch: 3, samples_per_s: 0 } }, () => false);
      assert.deepEqual(none.series, []);
      assert.equal(none.cancellable, false);
    } finally {
      store.close();
    }
  });
});

describe('store: run search, key metric, tags, delete', () => {
  it('filters by status, kind, tag, parameter and text; shows the key metric', () => {
    const ws = tempWorkspace();
    const ids = seedWorkspace(ws, ['--runs', '5']);
    const store = Store.open(ws)!;
    try {
      store.addTag(ids[1], 'baseline');
      const find = (q: string) => store.listRuns({ search: q, limit: 50 }).runs.map((r) => r.id);
      assert.deepEqual(find('status:failed'), [ids[4]]);
      assert.deepEqual(find('lr=0.03'), [ids[1]]);
      assert.deepEqual(find('tag:baseline'), [ids[1]]);
      assert.deepEqual(find('baseline'), [ids[1]], 'free text matches tags');
      assert.deepEqual(find('lr0.003'), [ids[3]]);
      assert.deepEqual(find(ids[2].slice(0, 5)), [ids[2]], 'id prefix');
      assert.deepEqual(find('train kind:notebook'), []);
      assert.deepEqual(find('50%_'), [], 'LIKE wildcards are literal');
      assert.equal(store.listRuns({ search: 'status:finished' }).total, 4);
      const page = store.listRuns({ keyMetric: '' });
      assert.deepEqual(page.runs[0].keyMetric?.key, 'accuracy', 'accuracy is preferred over loss');
      assert.deepEqual(page.runs[0].tags, []);
      assert.equal(store.listRuns({ keyMetric: 'loss' }).runs[0].keyMetric?.key, 'loss');
      assert.equal(store.listRuns({ keyMetric: 'nope' }).runs[0].keyMetric, null);
      assert.equal(store.listRuns({}).runs[0].keyMetric, undefined, 'plain lists stay as they were');
    } finally {
      store.close();
    }
  });

  it('deletes a run and only it: its children stay (top-level), running runs are refused', () => {
    const ws = tempWorkspace();
    const store = Store.open(ws, { create: true })!;
    try {
      const parent = store.createRun({ name: 'p', kind: 'script' });
      store.logMetrics(parent.id, [{ key: 'loss', value: 1, step: 0, wallTime: 1 }]);
      store.logParams(parent.id, { a: 1 }, 'cli');
      store.endRun(parent.id, 'finished', 0);
      const child = store.createRun({ name: 'c', kind: 'script', parentId: parent.id });
      store.logMetrics(child.id, [{ key: 'loss', value: 2, step: 0, wallTime: 1 }]);
      store.endRun(child.id, 'finished', 0);
      const other = store.createRun({ name: 'o', kind: 'script' });
      const writes = store.writeCount;
      assert.throws(() => store.deleteRun(other.id), /still running: stop it before deleting it/);
      assert.deepEqual(store.deleteRun(parent.id), { id: parent.id, name: 'p', keptChildren: [child.id] });
      assert.ok(store.writeCount > writes, 'own writes are counted (the server watches them)');
      assert.throws(() => store.getRun(parent.id), /No run/);
      const c = store.getRun(child.id);
      assert.equal(c.parentId, null);
      assert.equal(c.metrics[0].last, 2);
      assert.deepEqual(store.listRuns({}).runs.map((r) => r.id).sort(), [child.id, other.id].sort());
      store.addTag(other.id, 'x');
      store.removeTag(other.id, 'x');
      assert.deepEqual(store.getRun(other.id).tags, []);
    } finally {
      store.close();
    }
  });

  it('formats ages', () => {
    const now = Date.UTC(2026, 0, 10, 12);
    assert.equal(formatAge(new Date(now - 10_000).toISOString(), now), 'just now');
    assert.equal(formatAge(new Date(now - 5 * 60_000).toISOString(), now), '5m ago');
    assert.equal(formatAge(new Date(now - 3 * 3_600_000).toISOString(), now), '3h ago');
    assert.equal(formatAge(new Date(now - 2 * 86_400_000).toISOString(), now), '2d ago');
  });
});

describe('view requests over JSON-RPC (dist/server.js)', () => {
  it('compares, reads evaluations, tags, deletes and streams live data; says RunsChanged after edits', async () => {
    const ws = tempWorkspace();
    const s = seedViews(ws);
    const proc = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const changes: string[] = [];
    conn.onNotification(RunsChangedNotification, (p: RunsChangedParams) => {
      changes.push(p.reason);
    });
    conn.listen();
    try {
      await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { workspace: ws, watchIntervalMs: 50 } });
      conn.sendNotification('initialized', {});
      const list = await conn.sendRequest(ListRunsRequest, { keyMetric: '', search: 'model=cnn' });
      assert.deepEqual(list.runs.map((r) => r.id).sort(), [s.cnnA, s.cnnB].sort());
      assert.ok(list.runs.every((r) => r.evaluated && r.keyMetric?.key === 'accuracy'));
      const cmp = await conn.sendRequest(CompareRunsRequest, { ids: [s.cnnA, s.mlp] });
      assert.deepEqual(cmp.runs.map((r) => r.name), ['cnn-lr0.01', 'mlp-baseline']);
      const ev = await conn.sendRequest(EvaluationRequest, { id: s.cnnB });
      assert.equal(ev.epochs.length, 5);
      assert.ok(ev.examples.length > 0 && ev.examples.every((x) => x.thumbnail !== null));
      assert.deepEqual((await conn.sendRequest(EvaluatedRunsRequest)).map((r) => r.id), [s.cnnB, s.cnnA]);
      await assert.rejects(conn.sendRequest(EvaluationRequest, { id: s.mlp }), (e: ResponseError<{ code: string }>) => /recorded no evaluation/.test(e.message));
      assert.deepEqual(await conn.sendRequest(TagRunRequest, { id: s.mlp, add: ['baseline', 'v1'], remove: ['v1'] }), ['baseline']);
      await assert.rejects(conn.sendRequest(TagRunRequest, { id: s.mlp, add: ['two words'] }), /is not a tag/);
      assert.equal((await conn.sendRequest(ShowRunRequest, { id: s.mlp })).tags[0], 'baseline');
      const live = await conn.sendRequest(LiveRunRequest, { id: s.cnnA, since: { loss: 10 } });
      assert.equal(live.series.find((x) => x.key === 'loss')!.steps[0], 11);
      assert.equal(live.cancellable, false);
      assert.deepEqual(await conn.sendRequest(DeleteRunRequest, { id: s.mlp }), { id: s.mlp, name: 'mlp-baseline', keptChildren: [] });
      assert.equal((await conn.sendRequest(ListRunsRequest, {})).total, 2);
      assert.ok(changes.length >= 2, `RunsChanged after tag and delete (${changes.join(', ')})`);
    } finally {
      const exited = new Promise((r) => proc.once('exit', r));
      await conn.sendRequest('shutdown');
      await conn.sendNotification('exit');
      await exited;
      conn.dispose();
    }
  });
});

describe('CLI: compare, tag, delete, confusion, runs --filter', () => {
  it('does from the terminal what the views do', () => {
    const ws = tempWorkspace();
    const s = seedViews(ws);
    const cmp = runCli(['compare', s.cnnA, s.cnnB, '-C', ws]);
    assert.equal(cmp.code, 0, cmp.stderr);
    assert.match(cmp.stdout, /Parameters \(2 differ/);
    assert.match(cmp.stdout, /\* lr\s+0\.01\s+0\.03/);
    assert.match(cmp.stdout, /loss ↓/);
    assert.match(cmp.stdout, /data data\/train\.csv: [0-9a-f]{12} → [0-9a-f]{12}/);
    assert.match(cmp.stdout, /package numpy: 1\.24\.2 → 1\.26\.4/);
    const json = JSON.parse(runCli(['compare', s.cnnA, s.cnnB, s.mlp, '--json', '-C', ws]).stdout) as { runs: { id: string; series?: unknown }[]; differences: { params: string[]; inputs: string[]; packages: string[] } };
    assert.deepEqual(json.runs.map((r) => r.id), [s.cnnA, s.cnnB, s.mlp]);
    assert.equal(json.runs[0].series, undefined);
    assert.deepEqual(json.differences, { params: ['batch', 'lr', 'model', 'optimizer'], inputs: ['data/train.csv'], packages: ['numpy'] });
    assert.equal(runCli(['compare', s.cnnA, '-C', ws]).code, 2);
    assert.equal(runCli(['tag', s.mlp, 'baseline', '-C', ws]).stdout.trim(), `${s.mlp} (mlp-baseline): baseline`);
    assert.deepEqual(JSON.parse(runCli(['runs', '--filter', 'tag:baseline', '--json', '-C', ws]).stdout).runs.map((r: { id: string }) => r.id), [s.mlp]);
    assert.equal(runCli(['runs', '--filter', 'nothing-like-this', '-C', ws]).stdout.trim(), 'No runs match.');
    const refused = runCli(['delete', s.mlp, '-C', ws]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /would delete run [0-9a-f]{8} \(mlp-baseline, finished, 150 metric points\)/);
    assert.match(refused.stderr, /nothing deleted: add --yes/);
    assert.equal(JSON.parse(runCli(['runs', '--json', '-C', ws]).stdout).total, 3);
    assert.equal(runCli(['delete', s.mlp, '--yes', '-C', ws]).stdout.trim(), `deleted run ${s.mlp} (mlp-baseline)`);
    assert.equal(JSON.parse(runCli(['runs', '--json', '-C', ws]).stdout).total, 2);
    const cm = runCli(['confusion', s.cnnB, '--epoch', '1', '-C', ws]);
    assert.equal(cm.code, 0, cm.stderr);
    assert.match(cm.stdout, /cnn-lr0\.03 \([0-9a-f]{8}\) · epoch 1 of 1, 2, 3, 4, 5 · accuracy \d+\.\d\d%/);
    assert.equal(cm.stdout.trim().split('\n').length, 12, 'title, header, 10 classes');
    const none = runCli(['confusion', s.cnnA, '--epoch', '9', '-C', ws]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /has no epoch 9 \(epochs: 1, 2, 3, 4, 5\)/);
  });
});
