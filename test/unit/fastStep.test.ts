import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { loadEngine } from '../../server/training/engine';
import { fastStep, planStages } from '../../server/training/fastStep';

type Build = () => tf.LayersModel;
const init = (seed: number) => tf.initializers.glorotUniform({ seed });

const cnn = (pad: 'valid' | 'same'): Build => () => {
  const m = tf.sequential();
  m.add(tf.layers.reshape({ inputShape: [100], targetShape: [10, 10, 1] }));
  m.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: pad, activation: 'relu', kernelInitializer: init(1), biasInitializer: tf.initializers.constant({ value: 0.05 }) }));
  m.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: pad, activation: 'relu', kernelInitializer: init(2), biasInitializer: tf.initializers.constant({ value: 0.05 }) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 12, activation: 'relu', kernelInitializer: init(3), biasInitializer: tf.initializers.constant({ value: 0.05 }) }));
  m.add(tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(4) }));
  return m;
};
const mlp: Build = () => {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [100], units: 16, activation: 'relu', kernelInitializer: init(5) }));
  m.add(tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(6) }));
  return m;
};

function batch(n: number, seed: number): { x: Float32Array; y: Int32Array } {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  return { x: Float32Array.from({ length: n * 100 }, rand), y: Int32Array.from({ length: n }, () => Math.floor(rand() * 5)) };
}

/** Weights, mean categorical cross-entropy and its gradients by tfjs autodiff on the cpu backend. */
async function reference(build: Build, weights: Float32Array[], x: Float32Array, y: Int32Array) {
  await tf.setBackend('cpu');
  const model = build();
  model.setWeights(weights.map((w, i) => tf.tensor(w, model.getWeights()[i].shape)));
  const vars = model.trainableWeights.map((w) => (w as unknown as { read(): tf.Variable }).read());
  const out = tf.tidy(() => {
    const xs = tf.tensor2d(x, [y.length, 100]);
    const ys = tf.oneHot(tf.tensor1d(y, 'int32'), 5);
    const { value, grads } = tf.variableGrads(() => tf.metrics.categoricalCrossentropy(ys, model.apply(xs) as tf.Tensor).mean() as tf.Scalar, vars);
    const predicted = Array.from((model.apply(xs) as tf.Tensor).argMax(1).dataSync());
    return { loss: value.dataSync()[0], grads: vars.map((v) => Float32Array.from(grads[v.name].dataSync())), accuracy: predicted.reduce((a, p, i) => a + (p === y[i] ? 1 : 0), 0) / y.length };
  });
  model.dispose();
  await tf.setBackend('wasm');
  return out;
}

const snapshot = (m: tf.LayersModel) => m.getWeights().map((w) => Float32Array.from(w.dataSync()));

function maxRelError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 1e-12;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

describe('training engine: the explicit wasm training step', () => {
  const models: Array<[string, Build]> = [
    ['a CNN (conv → conv → pool → dense → dense), valid padding', cnn('valid')],
    ['a CNN with same padding', cnn('same')],
    ['an MLP', mlp],
  ];
  for (const [name, build] of models) {
    it(`computes the loss, accuracy and gradients tfjs autodiff computes: ${name}`, async () => {
      await loadEngine('wasm');
      const model = build();
      const before = snapshot(model);
      const { x, y } = batch(8, 7);
      const ref = await reference(build, before, x, y);
      // Plain SGD with learning rate 1: what the step subtracts is the gradient.
      const step = fastStep(tf, model, { optimizer: 'sgd', learningRate: 1 }, () => 0)!;
      assert.ok(step, 'the model can take the fast step');
      const tensorsBefore = tf.memory().numTensors;
      const r = step.step(x, y, 8);
      assert.equal(tf.memory().numTensors, tensorsBefore, 'a step leaves no tensor behind');
      assert.ok(Math.abs(r.loss - ref.loss) < 1e-5, `loss ${r.loss} vs ${ref.loss}`);
      assert.equal(r.accuracy, ref.accuracy);
      const after = snapshot(model);
      ref.grads.forEach((g, i) => {
        const got = before[i].map((w, k) => w - after[i][k]);
        const err = maxRelError(got, g);
        assert.ok(err < 1e-4, `weight ${i} (${model.getWeights()[i].shape}): relative error ${err}`);
        assert.ok(g.some((v) => v !== 0), `weight ${i} has a non-zero gradient to compare`);
      });
      step.dispose();
      model.dispose();
    });
  }

  it("takes Adam steps as tf.train.adam does (bias-corrected, tfjs's epsilon)", async () => {
    await loadEngine('wasm');
    const model = mlp();
    const start = snapshot(model);
    const batches = [batch(8, 1), batch(8, 2), batch(8, 3)];
    const step = fastStep(tf, model, { optimizer: 'adam', learningRate: 0.01 }, () => 0)!;
    for (const b of batches) step.step(b.x, b.y, 8);
    const got = snapshot(model);
    step.dispose();
    model.dispose();
    // The same three steps by tfjs's own optimizer over autodiff gradients.
    await tf.setBackend('cpu');
    const ref = mlp();
    ref.setWeights(start.map((w, i) => tf.tensor(w, ref.getWeights()[i].shape)));
    const adam = tf.train.adam(0.01);
    for (const b of batches) {
      tf.tidy(() => {
        const xs = tf.tensor2d(b.x, [8, 100]);
        const ys = tf.oneHot(tf.tensor1d(b.y, 'int32'), 5);
        adam.minimize(() => tf.metrics.categoricalCrossentropy(ys, ref.apply(xs) as tf.Tensor).mean() as tf.Scalar);
      });
    }
    const want = snapshot(ref);
    ref.dispose();
    adam.dispose();
    await tf.setBackend('wasm');
    want.forEach((w, i) => assert.ok(maxRelError(got[i], w) < 1e-4, `weight ${i}: relative error ${maxRelError(got[i], w)}`));
  });

  it('applies dropout masks from the seeded random source, scaled by 1/keep', async () => {
    await loadEngine('wasm');
    const build = () => {
      const m = tf.sequential();
      m.add(tf.layers.dense({ inputShape: [100], units: 16, activation: 'relu', kernelInitializer: init(5), biasInitializer: tf.initializers.constant({ value: 0.1 }) }));
      m.add(tf.layers.dropout({ rate: 0.5 }));
      m.add(tf.layers.dense({ units: 5, activation: 'softmax', kernelInitializer: init(6) }));
      return m;
    };
    const { x, y } = batch(8, 9);
    // Every unit dropped: nothing reaches the first layer, the last kernel sees zeros.
    const dropped = build();
    const before = snapshot(dropped);
    const step = fastStep(tf, dropped, { optimizer: 'sgd', learningRate: 1 }, () => 0.99)!;
    step.step(x, y, 8);
    const after = snapshot(dropped);
    assert.deepEqual(after[0], before[0], 'first kernel unchanged');
    assert.deepEqual(after[2], before[2], 'last kernel unchanged');
    assert.notDeepEqual(after[3], before[3], 'last bias still learns');
    step.dispose();
    dropped.dispose();
    // Every unit kept: the same step as a model without dropout whose hidden layer is doubled (1/keep).
    const kept = build();
    const start = snapshot(kept);
    const keepAll = fastStep(tf, kept, { optimizer: 'sgd', learningRate: 1 }, () => 0)!;
    const r = keepAll.step(x, y, 8);
    keepAll.dispose();
    const doubled = () => {
      const m = tf.sequential();
      m.add(tf.layers.dense({ inputShape: [100], units: 16, activation: 'relu' }));
      m.add(tf.layers.dense({ units: 5, activation: 'softmax' }));
      return m;
    };
    const scaled = [start[0].map((v) => v * 2), start[1].map((v) => v * 2), start[2], start[3]];
    const ref = await reference(doubled, scaled, x, y);
    assert.ok(Math.abs(r.loss - ref.loss) < 1e-5, `loss ${r.loss} vs ${ref.loss}`);
    kept.dispose();
  });

  it('declines models it cannot train, so training falls back to tfjs-layers', async () => {
    await loadEngine('wasm');
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [10], units: 4, activation: 'relu' }));
    m.add(tf.layers.batchNormalization());
    m.add(tf.layers.dense({ units: 3, activation: 'softmax' }));
    assert.match(String(planStages(m)), /layer BatchNormalization/);
    assert.equal(fastStep(tf, m, { optimizer: 'adam', learningRate: 0.01 }, Math.random), null);
    const sigmoid = tf.sequential();
    sigmoid.add(tf.layers.dense({ inputShape: [10], units: 3, activation: 'sigmoid' }));
    assert.match(String(planStages(sigmoid)), /Dense with activation sigmoid as the output layer/);
    const penalised = tf.sequential();
    penalised.add(tf.layers.dense({ inputShape: [10], units: 3, activation: 'softmax', kernelRegularizer: tf.regularizers.l2() }));
    assert.match(String(planStages(penalised)), /Dense with a kernelRegularizer/);
    penalised.dispose();
    m.dispose();
    sigmoid.dispose();
  });
});
