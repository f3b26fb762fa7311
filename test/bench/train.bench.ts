/**
 * npm run bench:train — the same small CNN (conv8 3×3 → maxpool 2 → dense 10) on the same
 * Fashion-MNIST subset, trained by Labbook's engine on each backend that works here (on wasm both
 * with Labbook's explicit step, as `labbook train` trains, and with tfjs-layers' trainOnBatch) and by
 * PyTorch CPU (Debian python3-torch, /usr/bin/python3) in the same run: samples/s (median of the
 * epochs after the first) and test accuracy after the same epochs; then the seed digit CNN on wasm
 * against PyTorch. Last line: one JSON object of figures.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadData, seededRandom, subset } from '../../server/training/data';
import { loadEngine } from '../../server/training/engine';
import { fastStep } from '../../server/training/fastStep';
import { buildModel } from '../../server/training/models';

const FASHION = process.env.BENCH_FASHION_DIR ?? '/usr/share/datasets/fashion-mnist';
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const TRAIN = Number(process.env.BENCH_TRAIN ?? 6000);
const TEST = Number(process.env.BENCH_TEST ?? 2000);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 3);
const BATCH = 64;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

type Kind = 'small' | 'seed';

function smallCnn(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.reshape({ inputShape: [784], targetShape: [28, 28, 1] }));
  m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return m;
}

/**
 * Labbook's training step on the current backend: the explicit step (fastStep.ts) where it applies,
 * as `labbook train` uses it, or tfjs-layers' trainOnBatch (`layers: true`, or a backend without it).
 */
async function labbook(kind: Kind, x: Float32Array, y: Int32Array, n: number, tx: Float32Array, ty: Int32Array, epochs: number, layers = false) {
  const model = kind === 'small' ? smallCnn() : buildModel(tf, 'cnn', [28, 28, 1], 10, { seed: 1, hidden: 128 });
  model.compile({ optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const fast = layers ? null : fastStep(tf, model, { optimizer: 'adam', learningRate: 0.001 }, seededRandom(3));
  const rates: number[] = [];
  for (let e = 0; e < epochs; e++) {
    const t0 = performance.now();
    for (let from = 0; from < n; from += BATCH) {
      const to = Math.min(n, from + BATCH);
      if (fast) {
        fast.step(x.subarray(from * 784, to * 784), y.subarray(from, to), to - from);
        continue;
      }
      const xs = tf.tensor2d(x.subarray(from * 784, to * 784), [to - from, 784]);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(y.subarray(from, to), 'int32'), 10));
      await model.trainOnBatch(xs, ys);
      tf.dispose([xs, ys]);
    }
    rates.push(n / ((performance.now() - t0) / 1000));
  }
  const pred = tf.tidy(() => tf.argMax(model.predict(tf.tensor2d(tx, [ty.length, 784])) as tf.Tensor, 1));
  const p = await pred.data();
  pred.dispose();
  fast?.dispose();
  model.dispose();
  return { step: fast ? 'labbook' : 'tfjs-layers', samplesPerS: epochs > 1 ? median(rates.slice(1)) : rates[0], accuracy: Array.from(p).reduce((a: number, v, i) => a + (v === ty[i] ? 1 : 0), 0) / ty.length };
}

const TORCH = `
import sys, time, numpy as np, torch, torch.nn as nn
kind, n, nt, epochs, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.manual_seed(1)
x = torch.from_numpy(np.fromfile(d + '/x.f32', dtype=np.float32).reshape(-1, 1, 28, 28)[:n].copy())
y = torch.from_numpy(np.fromfile(d + '/y.i32', dtype=np.int32)[:n].astype(np.int64))
tx = torch.from_numpy(np.fromfile(d + '/tx.f32', dtype=np.float32).reshape(-1, 1, 28, 28)[:nt].copy())
ty = np.fromfile(d + '/ty.i32', dtype=np.int32)[:nt]
if kind == 'small':
    m = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10))
else:
    m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
                      nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
opt = torch.optim.Adam(m.parameters(), lr=0.001)
loss_fn = nn.CrossEntropyLoss()
rates = []
for e in range(epochs):
    m.train(); t0 = time.perf_counter()
    for i in range(0, n, ${BATCH}):
        opt.zero_grad(); loss = loss_fn(m(x[i:i + ${BATCH}]), y[i:i + ${BATCH}]); loss.backward(); opt.step()
    rates.append(n / (time.perf_counter() - t0))
m.eval()
with torch.no_grad():
    acc = float((m(tx).argmax(1).numpy() == ty).mean())
r = sorted(rates[1:] if len(rates) > 1 else rates)
print(r[len(r) // 2], acc, torch.__version__, torch.get_num_threads())
`;

function torch(kind: Kind, dir: string, n: number, nt: number, epochs: number) {
  const r = spawnSync(PYTHON, ['-c', TORCH, kind, String(n), String(nt), String(epochs), dir], { encoding: 'utf8' });
  if (r.status !== 0) return { error: (r.stderr || r.error?.message || '').trim().split('\n').pop() };
  const [rate, acc, version, threads] = r.stdout.trim().split(' ');
  return { samplesPerS: Number(rate), accuracy: Number(acc), version, threads: Number(threads) };
}

async function main() {
  const data = loadData(FASHION);
  const train = subset(data.train, Int32Array.from({ length: TRAIN }, (_, i) => i));
  const test = subset(data.test, Int32Array.from({ length: TEST }, (_, i) => i));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-bench-train-'));
  fs.writeFileSync(path.join(dir, 'x.f32'), Buffer.from(train.x.buffer));
  fs.writeFileSync(path.join(dir, 'y.i32'), Buffer.from(train.y.buffer));
  fs.writeFileSync(path.join(dir, 'tx.f32'), Buffer.from(test.x.buffer));
  fs.writeFileSync(path.join(dir, 'ty.i32'), Buffer.from(test.y.buffer));
  console.log(`train bench: Fashion-MNIST ${TRAIN} train / ${TEST} test, batch ${BATCH}, ${EPOCHS} epochs, ${os.cpus().length} CPU(s)`);
  const figures: Record<string, unknown> = { train: TRAIN, test: TEST, epochs: EPOCHS, batch: BATCH };

  const pt = torch('small', dir, TRAIN, TEST, EPOCHS);
  figures.pytorch_small = pt;
  console.log(`  pytorch cpu  small CNN: ${'error' in pt ? pt.error : `${Math.round(pt.samplesPerS!)} samples/s, test acc ${pt.accuracy!.toFixed(4)} (torch ${pt.version}, ${pt.threads} threads)`}`);
  for (const backend of ['wasm', 'cpu'] as const) {
    const engine = await loadEngine(backend);
    if (engine.backend !== backend) continue;
    // The pure-JS cpu backend is ~50× slower: a tenth of the data keeps the run short.
    const n = backend === 'cpu' ? Math.min(TRAIN, 640) : TRAIN;
    const runs = backend === 'wasm' ? [false, true] : [true];
    for (const layers of runs) {
      const r = await labbook('small', train.x, train.y, n, test.x, test.y, backend === 'cpu' ? 2 : EPOCHS, layers);
      const ratio = 'samplesPerS' in pt ? r.samplesPerS / pt.samplesPerS! : null;
      figures[`labbook_${backend}${layers && backend === 'wasm' ? '_layers' : ''}_small`] = { ...r, ratio_to_pytorch: ratio };
      console.log(`  labbook ${backend.padEnd(5)} small CNN (${r.step} step): ${Math.round(r.samplesPerS)} samples/s${ratio !== null ? ` (${ratio.toFixed(2)}× PyTorch)` : ''}, test acc ${r.accuracy.toFixed(4)}${backend === 'cpu' ? ` (${n} examples, 2 epochs)` : ''}`);
    }
  }
  // The seed digit CNN (conv32 → conv64 → pool → dropout → dense128): wasm only (cpu is < 1 sample/s).
  const seedN = Math.min(TRAIN, Number(process.env.BENCH_SEED_TRAIN ?? 1280));
  const ptSeed = torch('seed', dir, seedN, TEST, 2);
  await loadEngine('wasm');
  const seed = await labbook('seed', train.x, train.y, seedN, test.x, test.y, 2);
  const seedRatio = 'samplesPerS' in ptSeed ? seed.samplesPerS / ptSeed.samplesPerS! : null;
  figures.pytorch_seed = ptSeed;
  figures.labbook_wasm_seed = { ...seed, ratio_to_pytorch: seedRatio };
  console.log(`  pytorch cpu  seed CNN:  ${'error' in ptSeed ? ptSeed.error : `${Math.round(ptSeed.samplesPerS!)} samples/s`} · labbook wasm seed CNN: ${Math.round(seed.samplesPerS)} samples/s${seedRatio !== null ? ` (${seedRatio.toFixed(2)}×)` : ''} (${seedN} examples, 2 epochs)`);
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(JSON.stringify(figures));
}

void main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
