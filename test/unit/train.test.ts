import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { describe, it } from 'node:test';
import { DIGITS_CSV, runCli, tempWorkspace } from './helpers';

const haveDigits = fs.existsSync(DIGITS_CSV);

describe('labbook train (CLI)', { skip: !haveDigits && 'no python3-sklearn digits.csv.gz' }, () => {
  it('trains an MLP on sklearn digits to ≥ 95% test accuracy, tracked with everything the views read', () => {
    const ws = tempWorkspace();
    const started = Date.now();
    const r = runCli(['--workspace', ws, 'train', '--data', DIGITS_CSV, '--model', 'mlp', '--epochs', '25', '--json']);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 'finished');
    assert.equal(out.model, 'digits-mlp@1');
    assert.equal(out.backend, 'wasm');
    assert.ok(out.test.accuracy >= 0.95, `test accuracy ${out.test.accuracy}`);
    assert.ok(seconds < 60, `took ${seconds} s`);
    assert.equal(out.test.perClass.length, 10);
    assert.equal(out.test.confusion.flat().reduce((a: number, b: number) => a + b, 0), 359, 'the held-out 20% of 1,797 rows');
    assert.ok(out.test.macro.f1 > 0.9);

    const show = JSON.parse(runCli(['--workspace', ws, 'show', out.run, '--json']).stdout);
    assert.equal(show.kind, 'training');
    assert.equal(show.status, 'finished');
    assert.equal(show.params.backend, 'wasm');
    assert.equal(show.params.epochs, '25');
    const metricKeys = Object.keys(show.metrics);
    for (const k of ['loss', 'accuracy', 'val_loss', 'val_accuracy', 'test_accuracy', 'samples_per_s', 'epoch']) assert.ok(metricKeys.includes(k), `metric ${k} in ${metricKeys}`);
    assert.equal(show.inputs[0].path, DIGITS_CSV);

    // The Confusion-matrix view's contract: one matrix per epoch, examples with 8×8 thumbnails.
    const conf = JSON.parse(runCli(['--workspace', ws, 'confusion', out.run, '--json']).stdout);
    assert.equal(conf.epochs.length, 25);
    assert.ok(conf.examples.length > 0);
    assert.deepEqual([conf.examples[0].thumbnail.width, conf.examples[0].thumbnail.height], [8, 8]);

    const card = JSON.parse(fs.readFileSync(path.join(ws, '.labbook', 'models', 'digits-mlp', '1', 'card.json'), 'utf8'));
    assert.equal(card.run, out.run);
    assert.equal(card.profile.classCounts.reduce((a: number, b: number) => a + b, 0), 1797 - 359);
    assert.ok(fs.statSync(path.join(ws, '.labbook', 'models', 'digits-mlp', '1', 'weights.bin')).size > 30000);
    const models = JSON.parse(runCli(['--workspace', ws, 'models', '--json']).stdout).models;
    assert.deepEqual(models.map((m: { name: string; version: number }) => `${m.name}@${m.version}`), ['digits-mlp@1']);
  });

  it('repeats a seeded run exactly on the same backend', () => {
    const ws = tempWorkspace();
    const a = JSON.parse(runCli(['--workspace', ws, 'train', '--data', DIGITS_CSV, '--model', 'mlp', '--epochs', '2', '--json']).stdout);
    const b = JSON.parse(runCli(['--workspace', ws, 'train', '--data', DIGITS_CSV, '--model', 'mlp', '--epochs', '2', '--json']).stdout);
    assert.deepEqual(b.test.confusion, a.test.confusion);
    assert.equal(b.model, 'digits-mlp@2');
  });

  it('refuses bad data with the place, before recording any run', () => {
    const ws = tempWorkspace();
    const csv = path.join(ws, 'bad.csv');
    fs.writeFileSync(csv, 'a,b,label\n1,2,0\n3,x7,1\n');
    const r = runCli(['--workspace', ws, 'train', '--data', csv, '--model', 'mlp']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.csv: line 3, 'b' \(column 2\): 'x7' is not a number/);
    assert.equal(fs.existsSync(path.join(ws, '.labbook')), false, 'nothing recorded');
    const u = runCli(['--workspace', ws, 'train', '--data', csv, '--model', 'resnet']);
    assert.equal(u.code, 1);
    assert.match(u.stderr, /model must be one of mlp, cnn/);
  });

  it('takes a YAML config, command-line options winning', () => {
    const ws = tempWorkspace();
    fs.writeFileSync(path.join(ws, 'train.yaml'), `data: ${DIGITS_CSV}\nmodel: mlp\nepochs: 1\nbatch_size: 100\nlearning_rate: 0.01\n`);
    const r = runCli(['--workspace', ws, 'train', '--config', path.join(ws, 'train.yaml'), '--epochs', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const show = JSON.parse(runCli(['--workspace', ws, 'show', JSON.parse(r.stdout).run, '--json']).stdout);
    assert.deepEqual([show.params.epochs, show.params.batch_size, show.params.learning_rate], ['2', '100', '0.01']);
    assert.equal(show.paramSources.batch_size, 'config');
  });
});

describe('registry: evaluate, deploy, rollback, predict, drift (CLI)', { skip: !haveDigits && 'no python3-sklearn digits.csv.gz' }, () => {
  const ws = tempWorkspace();
  const cli = (...args: string[]) => runCli(['--workspace', ws, ...args]);
  const trained = (epochs: string, name: string) => {
    const r = cli('train', '--data', DIGITS_CSV, '--model', 'mlp', '--epochs', epochs, '--name', name, '--json');
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { model: string; test: { accuracy: number } };
  };

  it('evaluates a registered model on its held-out split, as training measured it', () => {
    const t = trained('25', 'good');
    const e = JSON.parse(cli('evaluate', 'good', '--json').stdout);
    assert.equal(e.model, 'good@1');
    assert.equal(e.examples, 359);
    assert.equal(e.accuracy, t.test.accuracy);
    assert.equal(e.perClass.length, 10);
  });

  it('evaluates on all of another data set (none of it was trained on), not a held-out sample', () => {
    const rows = zlib.gunzipSync(fs.readFileSync(DIGITS_CSV)).toString().trim().split('\n').slice(0, 150);
    fs.writeFileSync(path.join(ws, 'other.csv'), rows.join('\n'));
    const e = JSON.parse(cli('evaluate', 'good', '--data', path.join(ws, 'other.csv'), '--json').stdout);
    assert.equal(e.examples, 150);
    assert.ok(e.accuracy > 0.9, `accuracy ${e.accuracy}`);
  });

  it('deploys only past the gate; a refusal exits 1 with the reason; --force is recorded; rollback restores', () => {
    const weak = trained('1', 'weak');
    assert.ok(weak.test.accuracy < 0.95);
    const refused = cli('deploy', '--json');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not deployed: weak@1: test accuracy .* is below the threshold 95\.00%/);
    const first = cli('deploy', '--model', 'good');
    assert.equal(first.code, 0, first.stderr);
    // Not worse than production: a lower threshold does not let a weaker model replace it.
    const worse = cli('deploy', '--threshold', '0.1');
    assert.equal(worse.code, 1);
    assert.match(worse.stderr, /not deployed: weak@1: .*worse than production good@1/);
    const forced = JSON.parse(cli('deploy', '--force', '--json').stdout);
    assert.deepEqual([forced.model, forced.deployed, forced.forced], ['weak@1', true, true]);
    const stage = () => Object.fromEntries(JSON.parse(cli('models', '--json').stdout).models.map((m: { name: string; stage: string }) => [m.name, m.stage]));
    assert.deepEqual(stage(), { good: 'archived', weak: 'production' });
    assert.equal(cli('rollback').code, 0);
    assert.deepEqual(stage(), { good: 'production', weak: 'archived' });
    const history = cli('deployments').stdout.trim().split('\n');
    assert.deepEqual(history.map((l) => l.split(/\s+/).slice(1, 3)), [['good@1', 'rollback'], ['weak@1', 'forced'], ['weak@1', 'refused'], ['good@1', 'chosen'], ['weak@1', 'refused']]);
    assert.match(history[1], /forced +forced past the gate: test accuracy .* is below the threshold 95\.00%/);
  });

  it('predicts CSV rows (with or without a label column), flags low confidence, logs for drift', () => {
    const digits = zlib.gunzipSync(fs.readFileSync(DIGITS_CSV)).toString().trim().split('\n').slice(0, 40);
    fs.writeFileSync(path.join(ws, 'labelled.csv'), digits.join('\n'));
    fs.writeFileSync(path.join(ws, 'rows.csv'), digits.map((l: string) => l.split(',').slice(0, 64).join(',')).join('\n'));
    const a = JSON.parse(cli('predict', 'good', path.join(ws, 'rows.csv'), '--json', '--min-confidence', '0.999').stdout);
    const b = JSON.parse(cli('predict', 'good', path.join(ws, 'labelled.csv'), '--json').stdout);
    assert.equal(a.predictions.length, 40);
    assert.deepEqual(a.predictions.map((p: { class: string }) => p.class), b.predictions.map((p: { class: string }) => p.class));
    const correct = a.predictions.filter((p: { class: string }, i: number) => p.class === digits[i].split(',')[64]).length;
    assert.ok(correct >= 36, `${correct}/40 right`);
    assert.ok(a.predictions.some((p: { review: boolean }) => p.review), 'some below 0.999 confidence');
    assert.ok(b.predictions.every((p: { review: boolean; confidence: number }) => p.review === p.confidence < 0.8));
    const same = JSON.parse(cli('drift', 'good', '--json').stdout);
    assert.equal(same.predictions, 80);
    assert.equal(same.drifted, false, same.reasons.join('; '));
    // Inverted images: per-example intensity shifts far from training.
    fs.writeFileSync(path.join(ws, 'inverted.csv'), digits.map((l: string) => l.split(',').slice(0, 64).map((v) => 16 - Number(v)).join(',')).join('\n'));
    assert.equal(cli('predict', 'good', path.join(ws, 'inverted.csv'), path.join(ws, 'inverted.csv'), path.join(ws, 'inverted.csv')).code, 0);
    const shifted = JSON.parse(cli('drift', 'good', '--json').stdout);
    assert.equal(shifted.drifted, true);
    assert.match(shifted.reasons[0], /input intensities differ/);
  });

  it('refuses a damaged model folder and a missing model, saying which', () => {
    fs.writeFileSync(path.join(ws, '.labbook', 'models', 'weak', '1', 'weights.bin'), Buffer.alloc(10));
    const r = cli('evaluate', 'weak@1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /weak@1 .*weights\.bin has 10 bytes where model\.json announces \d+ \(cut short or replaced\)/);
    fs.rmSync(path.join(ws, '.labbook', 'models', 'weak', '1', 'model.json'));
    assert.match(cli('predict', 'weak', path.join(ws, 'rows.csv')).stderr, /is missing model\.json/);
    const missing = cli('deploy', '--model', 'nope@3');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no model named 'nope' \(models: good, weak\)/);
    assert.match(cli('deploy', '--model', 'good@7').stderr, /model 'good' has no version 7 \(versions: 1\)/);
  });
});
