import Database from 'better-sqlite3';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { Store, storePaths } from '../../server/store/db';
import { LABBOOK_APPLICATION_ID } from '../../server/store/header';
import { MIGRATIONS } from '../../server/store/migrations';
import { DIGITS_CSV, runCli, tempWorkspace } from './helpers';

interface Deployment {
  model: string;
  passed: boolean;
  forced: boolean;
  chosen: boolean;
  gate: { reason: string; accuracy?: number; threshold?: number; rollback?: boolean };
}

describe('deploy a model chosen by name (CLI)', { skip: !fs.existsSync(DIGITS_CSV) && 'no python3-sklearn digits.csv.gz' }, () => {
  const ws = tempWorkspace();
  const cli = (...args: string[]) => runCli(['--workspace', ws, ...args]);
  const history = () => JSON.parse(cli('deployments', '--json').stdout).deployments as Deployment[];
  const stage = () => Object.fromEntries(JSON.parse(cli('models', '--json').stdout).models.map((m: { name: string; version: number; stage: string }) => [`${m.name}@${m.version}`, m.stage]));
  const trained = (name: string, ...args: string[]) => {
    const r = cli('train', '--data', DIGITS_CSV, '--model', 'mlp', '--name', name, '--json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as { model: string; test: { accuracy: number } };
  };

  it('refuses the newest model below the threshold, exit 1 with the reason, recorded as refused', () => {
    const weak = trained('weak', '--epochs', '1', '--limit', '60');
    assert.ok(weak.test.accuracy < 0.95, `weak model ${weak.test.accuracy}`);
    const r = cli('deploy');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not deployed: weak@1: test accuracy \d+\.\d\d% is below the threshold 95\.00% \(--force .*--model NAME@VERSION deploys the model you name/);
    assert.deepEqual(stage(), { 'weak@1': 'none' });
    const [d] = history();
    assert.deepEqual([d.model, d.passed, d.forced, d.chosen], ['weak@1', false, false, false]);
  });

  it('deploys a named model below the threshold, recorded as chosen (not forced) with the gate’s verdict', () => {
    const r = cli('deploy', '--model', 'weak@1', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual([out.deployed, out.how, out.chosen, out.forced], [true, 'chosen', true, false]);
    assert.match(out.reason, /chosen by name, past the gate \(test accuracy .* is below the threshold 95\.00%\)/);
    assert.deepEqual(stage(), { 'weak@1': 'production' });
    const [d] = history();
    assert.deepEqual([d.model, d.passed, d.forced, d.chosen], ['weak@1', false, false, true]);
    assert.equal(d.gate.threshold, 0.95);
    assert.match(cli('deployments').stdout, /weak@1\s+chosen\s+chosen by name/);
  });

  it('keeps the gate for the newest model: a better one deploys through it, a worse named one only by name', () => {
    trained('good', '--epochs', '25');
    const g = JSON.parse(cli('deploy', '--json').stdout);
    assert.deepEqual([g.model, g.deployed, g.how], ['good@1', true, 'gate']);
    trained('weak', '--epochs', '1', '--limit', '60');
    const refused = cli('deploy', '--threshold', '0');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not deployed: weak@2: .*worse than production good@1/);
    const chosen = JSON.parse(cli('deploy', '--model', 'weak', '--json').stdout);
    assert.deepEqual([chosen.model, chosen.how], ['weak@2', 'chosen'], 'NAME alone is its newest version');
    assert.deepEqual(stage(), { 'weak@1': 'archived', 'good@1': 'archived', 'weak@2': 'production' });
  });

  it('rolls back past a chosen deployment to the model before it', () => {
    const r = cli('rollback', '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { model: 'good@1', from: 'weak@2' });
    assert.deepEqual(stage(), { 'weak@1': 'archived', 'good@1': 'production', 'weak@2': 'archived' });
    assert.equal(history()[0].gate.rollback, true);
  });

  it('refuses a missing or damaged named model with exit 1, the history and production unchanged', () => {
    const before = history();
    const missing = cli('deploy', '--model', 'nope@1');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no model named 'nope' \(models: good, weak\)/);
    const noVersion = cli('deploy', '--model', 'good@9');
    assert.equal(noVersion.code, 1);
    assert.match(noVersion.stderr, /model 'good' has no version 9 \(versions: 1\)/);
    const weights = path.join(ws, '.labbook', 'models', 'weak', '1', 'weights.bin');
    const bytes = fs.readFileSync(weights);
    fs.writeFileSync(weights, bytes.subarray(0, bytes.length - 100));
    const cut = cli('deploy', '--model', 'weak@1');
    assert.equal(cut.code, 1);
    assert.match(cut.stderr, /model weak@1 \(.*\): weights\.bin has \d+ bytes where model\.json announces \d+ \(cut short or replaced\)/);
    assert.equal(cut.stderr.trim().split('\n').length, 1);
    fs.rmSync(path.join(ws, '.labbook', 'models', 'weak', '2'), { recursive: true });
    const gone = cli('deploy', '--model', 'weak@2');
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /model weak@2 .* is missing model\.json/);
    assert.deepEqual(history(), before, 'nothing recorded');
    assert.deepEqual(stage(), { 'weak@1': 'archived', 'good@1': 'production', 'weak@2': 'archived' });
  });
});

describe('store: deployments made before the chosen column (migration v2)', () => {
  it('opens a v1 store, keeping its deployments as not chosen, and records chosen ones after', () => {
    const ws = tempWorkspace();
    const p = storePaths(ws);
    fs.mkdirSync(p.dir, { recursive: true });
    const v1 = new Database(p.db);
    v1.pragma(`application_id = ${LABBOOK_APPLICATION_ID}`);
    v1.exec(MIGRATIONS[0]);
    v1.pragma('user_version = 1');
    v1.prepare("INSERT INTO models (name, version, path, created_at) VALUES ('m', 1, '.labbook/models/m/1', 1)").run();
    v1.prepare("INSERT INTO deployments (model_id, deployed_at, gate, passed, forced) VALUES (1, 2, '{\"reason\":\"old\"}', 0, 1)").run();
    v1.close();
    const store = Store.open(ws, { create: false })!;
    try {
      const [old] = store.deployments();
      assert.deepEqual([old.model, old.forced, old.chosen, old.gate.reason], ['m@1', true, false, 'old']);
      const chosen = store.recordDeployment(old.modelId, { gate: { reason: 'picked' }, passed: false, forced: false, chosen: true });
      assert.equal(chosen.chosen, true);
      assert.equal(store.listModels()[0].stage, 'production', 'a chosen deployment puts the model in production');
    } finally {
      store.close();
    }
  });
});

describe('deploy --model with --force (what "Deploy anyway (forced)" sends)', { skip: !fs.existsSync(DIGITS_CSV) && 'no python3-sklearn digits.csv.gz' }, () => {
  it('records a forced deployment, not a chosen one, when the gate fails', () => {
    const ws = tempWorkspace();
    const cli = (...args: string[]) => runCli(['--workspace', ws, ...args]);
    assert.equal(cli('train', '--data', DIGITS_CSV, '--model', 'mlp', '--name', 'weak', '--epochs', '1', '--limit', '60').code, 0);
    const out = JSON.parse(cli('deploy', '--model', 'weak@1', '--force', '--json').stdout);
    assert.deepEqual([out.deployed, out.how, out.forced, out.chosen], [true, 'forced', true, false]);
    assert.match(cli('deployments').stdout, /weak@1\s+forced\s+forced past the gate/);
  });
});
