import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { describe, it } from 'node:test';
import { LabbookError } from '../../server/core/errors';
import { holdOut, loadData, readCsv, readIdxPair } from '../../server/training/data';
import { DIGITS_CSV, FASHION_DIR, MNIST_DIR, tempWorkspace } from './helpers';

function idx(dims: number[], data: number[], magicType = 0x08): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = magicType;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LabbookError, String(e));
    assert.match(e.message, message);
    return true;
  });
}

describe('training data: IDX', () => {
  it('reads gzipped and plain IDX pairs, scaling bytes to [0, 1]', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte.gz'), zlib.gzipSync(idx([2, 2, 2], [0, 255, 51, 102, 255, 0, 0, 0])));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([2], [3, 1]));
    const d = readIdxPair(path.join(dir, 'train-images-idx3-ubyte.gz'), path.join(dir, 'train-labels-idx1-ubyte'));
    assert.equal(d.n, 2);
    assert.deepEqual(d.shape, [2, 2, 1]);
    assert.deepEqual(Array.from(d.x), [0, 1, 0.2, 0.4, 1, 0, 0, 0].map((v) => Math.fround(v)));
    assert.deepEqual(Array.from(d.y), [3, 1]);
    assert.deepEqual(d.labels, ['0', '1', '2', '3']);
  });

  it('refuses a wrong magic number, naming the file and what was expected', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'i'), idx([1, 2, 2], [1, 2, 3, 4]));
    fs.writeFileSync(path.join(dir, 'l'), Buffer.from('PK\x03\x04 not idx'));
    refused(() => readIdxPair(path.join(dir, 'i'), path.join(dir, 'l')), /l: not an IDX file \(magic 504b0304, expected 00000801\)/);
    // Images and labels swapped: the dimension count gives it away.
    fs.writeFileSync(path.join(dir, 'l'), idx([1], [0]));
    refused(() => readIdxPair(path.join(dir, 'l'), path.join(dir, 'i')), /1 dimension\(s\) where images need 3/);
  });

  it('refuses images and labels whose counts differ', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'train-images-idx3-ubyte'), idx([2, 1, 1], [1, 2]));
    fs.writeFileSync(path.join(dir, 'train-labels-idx1-ubyte'), idx([3], [0, 1, 1]));
    refused(() => loadData(dir), /has 2 images but train-labels-idx1-ubyte has 3 labels/);
  });

  it('refuses a truncated file', () => {
    const dir = tempWorkspace();
    fs.writeFileSync(path.join(dir, 'i'), idx([3, 2, 2], [1, 2, 3]));
    fs.writeFileSync(path.join(dir, 'l'), idx([3], [0, 1, 1]));
    refused(() => readIdxPair(path.join(dir, 'i'), path.join(dir, 'l')), /cut short: 3 bytes where 3×2×2 = 12/);
  });

  it('reads the real MNIST test split and holds out a test set from it', { skip: !fs.existsSync(MNIST_DIR) && 'no MNIST test split' }, () => {
    const s = loadData(MNIST_DIR, { testFraction: 0.2, seed: 1 });
    assert.equal(s.testSource, 'held-out');
    assert.equal(s.train.n + s.test.n, 10000);
    assert.equal(s.test.n, 2000);
    assert.deepEqual(s.train.shape, [28, 28, 1]);
    assert.equal(s.train.labels.length, 10);
  });

  it('uses the t10k files of Fashion-MNIST as the test split', { skip: !fs.existsSync(FASHION_DIR) && 'no Fashion-MNIST (apt-get install dataset-fashion-mnist)' }, () => {
    const s = loadData(FASHION_DIR);
    assert.equal(s.testSource, 'file');
    assert.equal(s.train.n, 60000);
    assert.equal(s.test.n, 10000);
  });
});

describe('training data: CSV', () => {
  it('reads sklearn digits (no header, label last), scaled by the largest value', { skip: !fs.existsSync(DIGITS_CSV) && 'no python3-sklearn' }, () => {
    const d = readCsv(DIGITS_CSV);
    assert.equal(d.n, 1797);
    assert.deepEqual(d.shape, [64]);
    assert.deepEqual(d.labels, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    assert.equal(d.scale, 16);
    assert.equal(Math.max(...d.x), 1);
    const s = holdOut(d, 0.2, 7);
    assert.equal(s.test.n, 359);
    assert.equal(s.train.n + s.test.n, 1797);
    assert.deepEqual(holdOut(d, 0.2, 7).test.y, s.test.y, 'the same seed gives the same split');
  });

  it('finds a named label column in a header and class names that are text', () => {
    const dir = tempWorkspace();
    const f = path.join(dir, 'd.csv');
    fs.writeFileSync(f, 'label,a,b\ncat,1,2\ndog,3,4\ncat,0,4\n');
    const d = readCsv(f);
    assert.deepEqual(d.labels, ['cat', 'dog']);
    assert.deepEqual(Array.from(d.y), [0, 1, 0]);
    assert.deepEqual(Array.from(d.x), [0.25, 0.5, 0.75, 1, 0, 1]);
  });

  it('refuses text in a pixel column with the line and column', () => {
    const dir = tempWorkspace();
    const f = path.join(dir, 'd.csv');
    fs.writeFileSync(f, 'p0,p1,label\n1,2,0\n3,oops,1\n');
    refused(() => readCsv(f), /d\.csv: line 3, 'p1' \(column 2\): 'oops' is not a number/);
    fs.writeFileSync(f, '1,2,0\n3,4\n');
    refused(() => readCsv(f), /line 2 has 2 columns, expected 3/);
  });

  it('says what to give when the path is neither', () => {
    const dir = tempWorkspace();
    refused(() => loadData(path.join(dir, 'missing.csv')), /no data at/);
    refused(() => loadData(dir), /has no IDX files/);
  });
});
