import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { DIGITS_CSV, runCli, tempWorkspace } from './helpers';

/** The bad inputs, through the CLI: one clear line naming the file, exit 1, nothing lost. */

function idx(dims: number[], data: number[], magic = [0, 0, 0x08, dims.length]): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  Buffer.from(magic).copy(head);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

function oneLineError(r: { code: number; stderr: string }, message: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, message);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
}

describe('bad input to training, evaluation, prediction and deployment (CLI)', { skip: !fs.existsSync(DIGITS_CSV) && 'no python3-sklearn digits.csv.gz' }, () => {
  const ws = tempWorkspace();
  const cli = (...args: string[]) => runCli(['--workspace', ws, ...args]);
  const runs = () => JSON.parse(cli('runs', '--json').stdout).runs.map((r: { id: string; status: string }) => `${r.id}:${r.status}`).sort();
  const rows = path.join(ws, 'rows.csv');
  let first = '';

  it('a good model and its predictions, to lose nothing of', () => {
    const r = cli('train', '--data', DIGITS_CSV, '--model', 'mlp', '--epochs', '3', '--name', 'm', '--json');
    assert.equal(r.code, 0, r.stderr);
    first = JSON.parse(r.stdout).run;
    fs.writeFileSync(rows, '0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0,0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0\n');
    assert.equal(cli('predict', 'm', rows).code, 0);
    assert.equal(cli('deploy', '--model', 'm@1').code, 0);
  });

  it('refuses IDX data with a wrong magic number or counts that disagree, recording no run', () => {
    const before = runs();
    const dir = path.join(ws, 'idx');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8], [0x50, 0x4b, 3, 4]));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([2], [0, 1]));
    oneLineError(cli('train', '--data', dir, '--model', 'mlp'), /train-images-idx3-ubyte: not an IDX file \(magic 504b0304, expected 00000803\)/);
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), idx([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([3], [0, 1, 1]));
    oneLineError(cli('train', '--data', dir, '--model', 'cnn'), /train-images-idx3-ubyte has 2 images but train-labels-idx1-ubyte has 3 labels/);
    const csv = path.join(ws, 'pixels.csv');
    fs.writeFileSync(csv, 'p0,p1,label\n1,2,0\n3,abc,1\n');
    oneLineError(cli('train', '--data', csv, '--model', 'mlp'), /pixels\.csv: line 3, 'p1' \(column 2\): 'abc' is not a number/);
    oneLineError(cli('evaluate', 'm', '--data', csv), /pixels\.csv: line 3/);
    assert.deepEqual(runs(), before, 'no run recorded, none changed');
  });

  it('refuses bad prediction inputs before logging any prediction', () => {
    const logged = cli('drift', 'm');
    assert.match(logged.stderr, /has 1 logged prediction\(s\)/);
    const narrow = path.join(ws, 'narrow.csv');
    fs.writeFileSync(narrow, '1,2,3\n');
    oneLineError(cli('predict', 'm', rows, narrow), /narrow\.csv: rows have 2 feature values; the model takes 64/);
    oneLineError(cli('predict', 'm', rows, path.join(ws, 'absent.csv')), /no input file .*absent\.csv/);
    const json = path.join(ws, 'x.json');
    fs.writeFileSync(json, '[1, 2');
    oneLineError(cli('predict', 'm', json), /x\.json: not valid JSON/);
    assert.match(cli('drift', 'm').stderr, /has 1 logged prediction\(s\)/, 'nothing more logged');
  });

  /** Damages one file of m@1's folder for `fn`, then puts it back. */
  const damaged = (file: string, bytes: (b: Buffer) => Buffer | string, fn: () => void) => {
    const f = path.join(ws, '.labbook', 'models', 'm', '1', file);
    const good = fs.readFileSync(f);
    fs.writeFileSync(f, bytes(good));
    try {
      fn();
    } finally {
      fs.writeFileSync(f, good);
    }
  };
  const everyVerb = (message: RegExp) => {
    oneLineError(cli('evaluate', 'm@1'), message);
    oneLineError(cli('predict', 'm@1', rows), message);
    // m@1 is in production: the folder is checked before anything else, so the damage is what is said.
    oneLineError(cli('deploy', '--model', 'm@1', '--force'), message);
  };

  it('refuses a damaged model folder in evaluate, predict and deploy, naming the file and why', () => {
    const history = cli('deployments', '--json').stdout;
    damaged('weights.bin', (b) => b.subarray(0, b.length - 64), () => everyVerb(/model m@1 \(.*\): weights\.bin has \d+ bytes where model\.json announces \d+ \(cut short or replaced\)/));
    damaged('weights.bin', (b) => Buffer.from(b).fill(7, 0, 16), () => everyVerb(/model m@1 .*: weights\.bin does not match the checksum in its model card/));
    damaged('model.json', (b) => b.subarray(0, 50), () => everyVerb(/model m@1 .*: model\.json is not valid JSON/));
    damaged('model.json', () => '{"format":"layers-model"}', () => everyVerb(/model m@1 .*: model\.json has no modelTopology or weightsManifest/));
    damaged('card.json', () => '{"name":', () => {
      everyVerb(/model m@1 .*: card\.json is not valid JSON/);
      oneLineError(cli('drift', 'm@1'), /model m@1 .*: card\.json cannot be read/);
    });
    assert.equal(cli('deployments', '--json').stdout, history, 'no deployment recorded');
    // Put back, everything works again: nothing was lost.
    assert.equal(cli('evaluate', 'm@1').code, 0);
    assert.equal(JSON.parse(cli('show', first, '--json').stdout).status, 'finished');
    assert.equal(JSON.parse(cli('models', '--json').stdout).models[0].stage, 'production');
  });
});
