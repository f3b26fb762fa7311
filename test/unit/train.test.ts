import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
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
