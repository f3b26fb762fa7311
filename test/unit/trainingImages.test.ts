import * as assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { describe, it } from 'node:test';
import { LabbookError } from '../../server/core/errors';
import { loadData } from '../../server/training/data';
import { runCli, sha256File, tempWorkspace } from './helpers';
import { encodePng, grayPng, writePng } from './pngWriter';

function refused(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof LabbookError, String(e));
    assert.match(e.message, message);
    return true;
  });
}

/** Seeded noise in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

const CLASSES = ['bars', 'dots', 'stripes'];
/** An 8×8 gray pattern per class (vertical bars, a checkerboard, horizontal stripes) under noise. */
function pattern(cls: string, r: () => number, invert = false): number[] {
  return Array.from({ length: 64 }, (_, k) => {
    const [y, x] = [Math.floor(k / 8), k % 8];
    const on = cls === 'bars' ? x % 2 === 0 : cls === 'stripes' ? y % 2 === 0 : (x + y) % 2 === 0;
    const v = Math.round((on ? 200 : 30) + (r() - 0.5) * 60);
    return invert ? 255 - v : v;
  });
}

/** DIR/<class>/NNN.png, `perClass` gray 8×8 images per class, written with varying filters. */
function imageFolder(dir: string, perClass: number, seed = 1): string {
  const r = rng(seed);
  for (const cls of CLASSES) {
    for (let i = 0; i < perClass; i++) writePng(path.join(dir, cls, `${String(i).padStart(3, '0')}.png`), grayPng(8, 8, pattern(cls, r), i % 5));
  }
  return dir;
}

describe('training data: image folders', () => {
  it('reads one subfolder per class (class names sorted) and holds out a seeded test split', () => {
    const dir = imageFolder(tempWorkspace(), 10);
    const s = loadData(dir, { testFraction: 0.2, seed: 3 });
    assert.equal(s.format, 'images');
    assert.equal(s.testSource, 'held-out');
    assert.deepEqual([s.train.n, s.test.n], [24, 6]);
    assert.deepEqual(s.train.labels, CLASSES);
    assert.deepEqual(s.train.shape, [8, 8, 1]);
    assert.equal(s.train.scale, 255);
    assert.equal(s.train.files.length, 30, 'every PNG is a data file');
    assert.deepEqual(loadData(dir, { testFraction: 0.2, seed: 3 }).test.y, s.test.y, 'the same seed holds out the same images');
    // The first image of 'bars' (index 0 of class 0): its pixels, scaled to [0, 1].
    const all = loadData(dir, { testFraction: 0.2, seed: 3 });
    const first = all.train.files.indexOf(path.join(dir, 'bars', '000.png')) >= 0 ? all.train : all.test;
    const i = first.files.indexOf(path.join(dir, 'bars', '000.png'));
    assert.equal(first.y[i], 0);
    assert.deepEqual(Array.from(first.x.subarray(i * 64, i * 64 + 8), (v) => Math.round(v * 255)), pattern('bars', rng(1)).slice(0, 8));
  });

  it('takes train/ and test/ folders as the splits; colour images make 3 channels, gray ones repeated', () => {
    const dir = tempWorkspace();
    const red = (v: number) => encodePng({ width: 4, height: 3, type: 2, samples: Array.from({ length: 12 }, () => [v, 0, 0]).flat() });
    writePng(path.join(dir, 'train', 'red', 'a.png'), red(250));
    writePng(path.join(dir, 'train', 'red', 'b.png'), encodePng({ width: 4, height: 3, type: 6, samples: Array.from({ length: 12 }, () => [255, 0, 0, 128]).flat() }));
    writePng(path.join(dir, 'train', 'gray', 'a.png'), grayPng(4, 3, new Array(12).fill(51)));
    writePng(path.join(dir, 'test', 'red', 'c.png'), red(200));
    const s = loadData(dir);
    assert.equal(s.testSource, 'file');
    assert.deepEqual([s.train.n, s.test.n], [3, 1]);
    assert.deepEqual(s.train.labels, ['gray', 'red']);
    assert.deepEqual(s.test.labels, ['gray', 'red']);
    assert.deepEqual(Array.from(s.test.y), [1]);
    assert.deepEqual(s.train.shape, [3, 4, 3]);
    const px = (d: typeof s.train, i: number) => Array.from(d.x.subarray(i * 36, i * 36 + 3), (v) => Math.round(v * 255));
    assert.deepEqual(px(s.train, 0), [51, 51, 51], 'gray repeated into RGB');
    assert.deepEqual(px(s.train, 2), [128, 0, 0], 'alpha composited on black');
    assert.deepEqual(px(s.test, 0), [200, 0, 0]);
  });

  it('refuses bad folders before reading on, naming the file', () => {
    const dir = imageFolder(tempWorkspace(), 2);
    writePng(path.join(dir, 'dots', 'big.png'), grayPng(9, 8, new Array(72).fill(0)));
    refused(() => loadData(dir), /dots\/big\.png: is 9×8 but .*bars\/000\.png is 8×8: all images must have the same size/);
    fs.rmSync(path.join(dir, 'dots', 'big.png'));
    fs.writeFileSync(path.join(dir, 'dots', 'notes.txt'), 'hi');
    refused(() => loadData(dir), /dots\/notes\.txt: not a \.png file/);
    fs.rmSync(path.join(dir, 'dots', 'notes.txt'));
    fs.writeFileSync(path.join(dir, 'dots', 'photo.png'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]));
    refused(() => loadData(dir), /dots\/photo\.png: not a PNG file/);
    const cut = grayPng(8, 8, new Array(64).fill(9));
    fs.writeFileSync(path.join(dir, 'dots', 'photo.png'), cut.subarray(0, cut.length - 30));
    refused(() => loadData(dir), /dots\/photo\.png: cut short/);
    fs.writeFileSync(path.join(dir, 'dots', 'photo.png'), encodePng({ width: 8, height: 8, type: 0, samples: new Array(64).fill(1), interlace: true }));
    refused(() => loadData(dir), /dots\/photo\.png: interlaced \(Adam7\) PNGs are not supported/);
    fs.rmSync(path.join(dir, 'dots', 'photo.png'));
    fs.mkdirSync(path.join(dir, 'empty'));
    fs.writeFileSync(path.join(dir, 'empty', '.DS_Store'), '');
    refused(() => loadData(dir), /class folder .*\/empty has no PNG images/);

    const flat = tempWorkspace();
    writePng(path.join(flat, 'a.png'), grayPng(2, 2, [0, 1, 2, 3]));
    refused(() => loadData(flat), /no IDX files .* and no class subfolders of PNG images/);

    const split = tempWorkspace();
    writePng(path.join(split, 'train', 'cat', 'a.png'), grayPng(2, 2, [0, 1, 2, 3]));
    writePng(path.join(split, 'test', 'dog', 'a.png'), grayPng(2, 2, [0, 1, 2, 3]));
    refused(() => loadData(split), /test\/dog: class 'dog' is not among the training classes \(cat\)/);
  });
});

describe('labbook train/predict/drift on PNG folders (CLI)', () => {
  const ws = tempWorkspace();
  const data = imageFolder(path.join(ws, 'patterns'), 80);
  const cli = (...args: string[]) => runCli(['--workspace', ws, ...args]);

  it('trains an MLP far above chance, the files recorded through one manifest hash', () => {
    const r = cli('train', '--data', data, '--model', 'mlp', '--epochs', '8', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.model, 'patterns-mlp@1');
    assert.equal(out.test.confusion.flat().reduce((a: number, b: number) => a + b, 0), 48, '20% of 240 images held out');
    assert.ok(out.test.accuracy >= 0.9, `test accuracy ${out.test.accuracy} (chance 0.33)`);
    assert.deepEqual(out.test.perClass.map((c: { label: string }) => c.label), CLASSES);

    const show = JSON.parse(cli('show', out.run, '--json').stdout);
    // 240 files: one input, the folder, hashed as its sha256sum-style manifest.
    assert.equal(show.inputs.length, 1);
    assert.equal(show.inputs[0].path, data);
    const files = CLASSES.flatMap((c) => fs.readdirSync(path.join(data, c)).map((f) => `${c}/${f}`)).sort();
    const manifest = files.map((f) => `${sha256File(path.join(data, f))}  ${f}`).join('\n') + '\n';
    assert.equal(show.inputs[0].sha256, crypto.createHash('sha256').update(manifest).digest('hex'));
    const card = JSON.parse(fs.readFileSync(path.join(ws, '.labbook', 'models', 'patterns-mlp', '1', 'card.json'), 'utf8'));
    assert.deepEqual(card.data.labels, CLASSES);
    assert.deepEqual(card.data.shape, [8, 8, 1]);
    assert.equal(card.data.format, 'images');
  });

  it('predicts PNG files (gray or RGB) and logs them for drift', () => {
    const fresh = path.join(ws, 'fresh');
    const r = rng(99);
    const inputs: string[] = [];
    for (let i = 0; i < 24; i++) {
      const cls = CLASSES[i % 3];
      const px = pattern(cls, r);
      // Every fourth one stored as RGB with equal channels: converted to the model's one channel.
      const png = i % 4 === 3 ? encodePng({ width: 8, height: 8, type: 2, samples: px.flatMap((v) => [v, v, v]) }) : grayPng(8, 8, px);
      inputs.push(writePng(path.join(fresh, `${cls}-${i}.png`), png));
    }
    const p = cli('predict', 'patterns-mlp', ...inputs, '--json');
    assert.equal(p.code, 0, p.stderr);
    const preds = JSON.parse(p.stdout).predictions as Array<{ input: string; class: string }>;
    assert.deepEqual(preds.map((x) => x.input), inputs.map((f) => path.basename(f)));
    const right = preds.filter((x) => x.input.startsWith(`${x.class}-`)).length;
    assert.ok(right >= 21, `${right}/24 right`);
    const same = JSON.parse(cli('drift', 'patterns-mlp', '--json').stdout);
    assert.equal(same.predictions, 24);
    assert.equal(same.drifted, false, same.reasons.join('; '));
    // Inverted images: the per-image intensity moves far from training.
    const inverted = Array.from({ length: 40 }, (_, i) => writePng(path.join(ws, 'inverted', `${i}.png`), grayPng(8, 8, pattern(CLASSES[i % 3], r, true))));
    assert.equal(cli('predict', 'patterns-mlp', ...inverted).code, 0);
    const shifted = JSON.parse(cli('drift', 'patterns-mlp', '--json').stdout);
    assert.equal(shifted.drifted, true);
    assert.match(shifted.reasons[0], /input intensities differ/);
  });

  it('predicts every PNG of a folder (and its class subfolders), named by their path in it', () => {
    const p = cli('predict', 'patterns-mlp', data, '--json');
    assert.equal(p.code, 0, p.stderr);
    const preds = JSON.parse(p.stdout).predictions as Array<{ input: string; class: string }>;
    assert.equal(preds.length, 240);
    assert.equal(preds[0].input, 'bars/000.png');
    const right = preds.filter((x) => x.input.split('/')[0] === x.class).length;
    assert.ok(right >= 228, `${right}/240 right`);
    const empty = path.join(ws, 'no-images');
    fs.mkdirSync(empty);
    fs.writeFileSync(path.join(empty, 'readme.txt'), 'x');
    const none = cli('predict', 'patterns-mlp', empty);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no-images: a folder given to predict must hold PNG images .*; it has none/);
  });

  it('refuses a PNG of another size, and bad image folders before recording a run', () => {
    const odd = writePng(path.join(ws, 'odd.png'), grayPng(7, 8, new Array(56).fill(0)));
    const p = cli('predict', 'patterns-mlp', odd);
    assert.equal(p.code, 1);
    assert.match(p.stderr, /odd\.png is 7×8; the model takes 8×8 images \(Labbook does not resize\)/);

    const fresh = tempWorkspace();
    const bad = imageFolder(path.join(fresh, 'imgs'), 2);
    fs.mkdirSync(path.join(bad, 'zebra'));
    const t = runCli(['--workspace', fresh, 'train', '--data', bad, '--model', 'mlp']);
    assert.equal(t.code, 1);
    assert.match(t.stderr, /class folder .*zebra has no PNG images/);
    assert.equal(t.stderr.trim().split('\n').length, 1, 'one line');
    assert.equal(fs.existsSync(path.join(fresh, '.labbook')), false, 'nothing recorded');
  });
});
