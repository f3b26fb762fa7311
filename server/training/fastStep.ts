/**
 * The fast training step for the wasm backend. `model.trainOnBatch` runs ~170 kernels per step for
 * a small CNN (autodiff tape, Keras loss and metrics, an optimizer of ~12 kernels per variable),
 * and on wasm most of a step is the cost of dispatching them, not arithmetic. This step walks the
 * Sequential model's own layers and writes the backward pass out explicitly: ~25 kernels, of
 * which softmax cross-entropy (loss, accuracy and its gradient in one pass), the ReLU gradient and
 * the whole optimizer update of a variable are single JS passes over the wasm heap.
 *
 * It trains the model's own variables, so `model.predict` and saving see every update. Models
 * with a layer it does not know (or any backend but wasm) get `null`, and the caller keeps
 * `trainOnBatch`. `test/unit/trainingEngine.test.ts` checks its gradients against tfjs autodiff.
 */
import type * as tfType from '@tensorflow/tfjs';
import type { LayersModel, Tensor, Variable } from '@tensorflow/tfjs';
import type { OptimizerName } from './config';
import type { Tf } from './engine';
import { maxPoolGradPass } from './wasmKernels';

type Info = tfType.TensorInfo;
type Activation = 'relu' | 'linear';

/** What these kernels use of tfjs-backend-wasm's backend object. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: string): Info;
  typedArrayFromHeap(t: Info): Float32Array | Int32Array | Uint8Array;
}

/** The slice of tfjs-layers' LayerVariable the step needs (the model's weights). */
interface Weight {
  read(): Tensor;
  write(v: Tensor): unknown;
}

type Stage =
  | { kind: 'reshape'; shape: number[] }
  | {
      kind: 'conv';
      kernel: Weight;
      bias: Weight | null;
      activation: Activation;
      pad: 'valid' | 'same';
    }
  | { kind: 'pool'; size: [number, number]; afterRelu: boolean }
  | { kind: 'dropout'; rate: number }
  | { kind: 'dense'; kernel: Weight; bias: Weight | null; activation: Activation };

export interface OptimizerSettings {
  optimizer: OptimizerName;
  learningRate: number;
}

export interface FastStep {
  /** One optimizer step on a batch of `n` examples (features row-major, labels as class indexes). */
  step(x: Float32Array, labels: Int32Array, n: number): { loss: number; accuracy: number };
  /** Frees the optimizer's state (the model keeps its trained weights). */
  dispose(): void;
}

const SOFTMAX_XENT = 'LabbookSoftmaxXent';
const POOL_GRAD = 'LabbookMaxPoolGrad';
const UPDATE = 'LabbookOptimizerUpdate';
const registered = new WeakSet<object>();

/** The JS kernels of the step, registered once per tfjs instance for the wasm backend. */
export function registerFastStepKernels(tf: Tf): void {
  if (registered.has(tf)) return;
  registered.add(tf);
  const heap = (backend: unknown) => backend as WasmBackend;

  // logits [n, C], labels int32 [n] → d(mean loss)/d(logits) [n, C] and [loss sum, correct].
  tf.registerKernel({
    kernelName: SOFTMAX_XENT,
    backendName: 'wasm',
    kernelFunc: (({ inputs, backend }: { inputs: { logits: Info; labels: Info }; backend: unknown }) => {
      const b = heap(backend);
      const [n, c] = inputs.logits.shape;
      const grad = b.makeOutput([n, c], 'float32');
      const stats = b.makeOutput([2], 'float32');
      const z = b.typedArrayFromHeap(inputs.logits) as Float32Array;
      const y = b.typedArrayFromHeap(inputs.labels) as Int32Array;
      const g = b.typedArrayFromHeap(grad) as Float32Array;
      let loss = 0;
      let correct = 0;
      for (let i = 0; i < n; i++) {
        const row = i * c;
        let max = z[row];
        let arg = 0;
        for (let k = 1; k < c; k++) {
          if (z[row + k] > max) {
            max = z[row + k];
            arg = k;
          }
        }
        let sum = 0;
        for (let k = 0; k < c; k++) {
          const e = Math.exp(z[row + k] - max);
          g[row + k] = e;
          sum += e;
        }
        const label = y[i];
        loss += Math.log(sum) - (z[row + label] - max);
        if (arg === label) correct++;
        for (let k = 0; k < c; k++) g[row + k] = (g[row + k] / sum - (k === label ? 1 : 0)) / n;
      }
      const s = b.typedArrayFromHeap(stats) as Float32Array;
      s[0] = loss;
      s[1] = correct;
      return [grad, stats];
    }) as never,
  });

  // Max-pool gradient for windows that tile the input (pool size = stride): dy goes to the first
  // maximum of each window, as tfjs's cpu backend does. With `relu` the pool's input is a ReLU's
  // output and the ReLU's gradient is applied too: a window whose maximum is 0 passes nothing.
  // The second output is the gradient's sum per channel: the bias gradient of the layer below.
  tf.registerKernel({
    kernelName: POOL_GRAD,
    backendName: 'wasm',
    kernelFunc: (({ inputs, backend, attrs }: { inputs: { dy: Info; x: Info }; backend: unknown; attrs: { size: [number, number]; relu: boolean } }) => {
      const b = heap(backend);
      const [n, h, w, c] = inputs.x.shape;
      const [kh, kw] = attrs.size;
      const [, oh, ow] = inputs.dy.shape;
      const out = b.makeOutput(inputs.x.shape, 'float32');
      const sums = b.makeOutput([c], 'float32');
      const x = b.typedArrayFromHeap(inputs.x) as Float32Array;
      const g = b.typedArrayFromHeap(inputs.dy) as Float32Array;
      const dx = b.typedArrayFromHeap(out) as Float32Array;
      const db = new Float64Array(c);
      maxPoolGradPass(x, g, dx, [n, h, w, c], [kh, kw], [oh, ow], attrs.relu ? 0 : -Infinity, db);
      (b.typedArrayFromHeap(sums) as Float32Array).set(db);
      return [out, sums];
    }) as never,
  });

  // One variable's optimizer update, the formulas of tf.train.adam / rmsprop / sgd (tfjs defaults:
  // β1 0.9, β2 0.999, ε 1e-7; RMSprop decay 0.9, no momentum) → new weights, m, v.
  tf.registerKernel({
    kernelName: UPDATE,
    backendName: 'wasm',
    kernelFunc: (({ inputs, backend, attrs }: { inputs: { w: Info; g: Info; m: Info; v: Info }; backend: unknown; attrs: { optimizer: OptimizerName; lr: number; t: number } }) => {
      const b = heap(backend);
      const outW = b.makeOutput(inputs.w.shape, 'float32');
      const outM = b.makeOutput(inputs.m.shape, 'float32');
      const outV = b.makeOutput(inputs.v.shape, 'float32');
      const w = b.typedArrayFromHeap(inputs.w) as Float32Array;
      const g = b.typedArrayFromHeap(inputs.g) as Float32Array;
      const m = b.typedArrayFromHeap(inputs.m) as Float32Array;
      const v = b.typedArrayFromHeap(inputs.v) as Float32Array;
      const w2 = b.typedArrayFromHeap(outW) as Float32Array;
      const m2 = b.typedArrayFromHeap(outM) as Float32Array;
      const v2 = b.typedArrayFromHeap(outV) as Float32Array;
      const { optimizer, lr, t } = attrs;
      const eps = 1e-7;
      if (optimizer === 'adam') {
        const b1 = 0.9;
        const b2 = 0.999;
        const c1 = 1 / (1 - b1 ** t);
        const c2 = 1 / (1 - b2 ** t);
        for (let i = 0; i < w.length; i++) {
          const mi = b1 * m[i] + (1 - b1) * g[i];
          const vi = b2 * v[i] + (1 - b2) * g[i] * g[i];
          m2[i] = mi;
          v2[i] = vi;
          w2[i] = w[i] - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
        }
      } else if (optimizer === 'rmsprop') {
        const rho = 0.9;
        for (let i = 0; i < w.length; i++) {
          const ms = rho * v[i] + (1 - rho) * g[i] * g[i];
          v2[i] = ms;
          m2[i] = 0;
          w2[i] = w[i] - (lr * g[i]) / Math.sqrt(ms + eps);
        }
      } else {
        for (let i = 0; i < w.length; i++) {
          w2[i] = w[i] - lr * g[i];
          m2[i] = 0;
          v2[i] = 0;
        }
      }
      return [outW, outM, outV];
    }) as never,
  });
}

/** The stages of a Sequential model this step can train, or why it cannot. */
export function planStages(model: LayersModel): Stage[] | string {
  const stages: Stage[] = [];
  const layers = model.layers;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as unknown as { getClassName(): string; getConfig(): Record<string, unknown>; trainableWeights: Weight[]; trainable: boolean };
    const cls = layer.getClassName();
    const c = layer.getConfig();
    // Penalties and constraints change the gradient or the update; frozen layers the weights trained.
    const extra = ['kernelRegularizer', 'biasRegularizer', 'activityRegularizer', 'kernelConstraint', 'biasConstraint'].find((k) => c[k] != null);
    if (extra) return `${cls} with a ${extra}`;
    if (!layer.trainable) return `a frozen ${cls} layer`;
    const weights = layer.trainableWeights;
    const act = String(c.activation ?? 'linear');
    const last = i === layers.length - 1;
    if (cls === 'Reshape') stages.push({ kind: 'reshape', shape: c.targetShape as number[] });
    else if (cls === 'Flatten') stages.push({ kind: 'reshape', shape: [-1] });
    else if (cls === 'Dropout') stages.push({ kind: 'dropout', rate: Number(c.rate) });
    else if (cls === 'MaxPooling2D') {
      const size = c.poolSize as [number, number];
      const strides = (c.strides ?? size) as [number, number];
      if (strides[0] !== size[0] || strides[1] !== size[1] || c.padding !== 'valid' || c.dataFormat !== 'channelsLast') return `max pooling ${JSON.stringify(c)}`;
      const prev = stages[stages.length - 1];
      stages.push({ kind: 'pool', size, afterRelu: prev?.kind === 'conv' && prev.activation === 'relu' });
    } else if (cls === 'Conv2D') {
      const strides = c.strides as number[];
      const dilation = c.dilationRate as number[];
      if (strides.some((s) => s !== 1) || dilation.some((d) => d !== 1) || c.dataFormat !== 'channelsLast' || (act !== 'relu' && act !== 'linear')) return `Conv2D with ${JSON.stringify(c)}`;
      stages.push({ kind: 'conv', kernel: weights[0], bias: c.useBias ? weights[1] : null, activation: act, pad: c.padding as 'valid' | 'same' });
    } else if (cls === 'Dense') {
      if (last ? act !== 'softmax' : act !== 'relu' && act !== 'linear') return `Dense with activation ${act}${last ? ' as the output layer' : ''}`;
      stages.push({ kind: 'dense', kernel: weights[0], bias: c.useBias ? weights[1] : null, activation: last ? 'linear' : (act as Activation) });
    } else return `layer ${cls}`;
  }
  const end = stages[stages.length - 1];
  if (!end || end.kind !== 'dense') return 'the model does not end in a softmax Dense layer';
  return stages;
}

/**
 * The explicit training step for `model`, or `null` when the engine is not wasm or the model has
 * a layer the step does not know. `rand` draws the dropout masks (seeded by the caller).
 */
export function fastStep(tf: Tf, model: LayersModel, opt: OptimizerSettings, rand: () => number): FastStep | null {
  if (tf.getBackend() !== 'wasm') return null;
  const plan = planStages(model);
  if (typeof plan === 'string') return null;
  registerFastStepKernels(tf);
  const stages = plan;
  const weights: Weight[] = stages.flatMap((s) => (s.kind === 'conv' || s.kind === 'dense' ? [s.kernel, ...(s.bias ? [s.bias] : [])] : []));
  const moments = new Map<Weight, { m: Variable; v: Variable }>(weights.map((w) => [w, { m: tf.variable(tf.zerosLike(w.read()), false), v: tf.variable(tf.zerosLike(w.read()), false) }]));
  const features = (model.inputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
  const firstWeighted = stages.findIndex((s) => s.kind === 'conv' || s.kind === 'dense');
  let t = 0;
  const engine = tf.engine();
  const run = (name: string, inputs: Record<string, Tensor>, attrs: Record<string, unknown> = {}) => engine.runKernel(name, inputs as never, attrs as never) as Tensor | Tensor[];

  const step = (x: Float32Array, labels: Int32Array, n: number) => {
    t++;
    const stats = tf.tidy(() => {
      const inputs: Tensor[] = [];
      const outputs: Tensor[] = [];
      /** Per stage: its dropout mask. */
      const saved: Array<Tensor | null> = [];
      let a: Tensor = tf.tensor2d(x.subarray(0, n * features), [n, features]);
      for (const s of stages) {
        inputs.push(a);
        let keep: Tensor | null = null;
        if (s.kind === 'reshape') a = tf.reshape(a, [n, ...s.shape]);
        else if (s.kind === 'dropout') {
          if (s.rate > 0) {
            const p = 1 - s.rate;
            const m = new Float32Array(a.size);
            for (let i = 0; i < m.length; i++) m[i] = rand() < p ? 1 / p : 0;
            keep = tf.tensor(m, a.shape);
            a = tf.mul(a, keep);
          }
        } else if (s.kind === 'pool') a = tf.maxPool(a as tfType.Tensor4D, s.size, s.size, 'valid');
        else if (s.kind === 'conv') a = tf.fused.conv2d({ x: a as tfType.Tensor4D, filter: s.kernel.read() as tfType.Tensor4D, strides: 1, pad: s.pad, bias: s.bias?.read(), activation: s.activation });
        else a = tf.fused.matMul({ a: a as tfType.Tensor2D, b: s.kernel.read() as tfType.Tensor2D, bias: s.bias?.read(), activation: s.activation });
        outputs.push(a);
        saved.push(keep);
      }
      const [dLogits, stats] = run(SOFTMAX_XENT, { logits: a, labels: tf.tensor1d(labels.subarray(0, n), 'int32') }) as Tensor[];
      const grads = new Map<Weight, Tensor>();
      let d = dLogits;
      /** The channel sums of the last pool's gradient (the bias gradient of a conv right below it). */
      let poolSums: Tensor | null = null;
      // Stages before the first weighted one need no gradient.
      for (let i = stages.length - 1; i >= firstWeighted; i--) {
        const s = stages[i];
        const input = inputs[i];
        const needInput = i > firstWeighted;
        if (s.kind === 'reshape') d = tf.reshape(d, input.shape);
        else if (s.kind === 'dropout') d = saved[i] ? tf.mul(d, saved[i]!) : d;
        else if (s.kind === 'pool') [d, poolSums] = run(POOL_GRAD, { dy: d, x: input }, { size: s.size, relu: s.afterRelu }) as Tensor[];
        else {
          // A pool after this ReLU already applied the ReLU's gradient.
          const pooled = stages[i + 1]?.kind === 'pool' && (stages[i + 1] as { afterRelu: boolean }).afterRelu;
          const dz = s.activation === 'relu' && !pooled ? tf.mul(d, tf.step(outputs[i])) : d;
          const kernel = s.kernel.read();
          if (s.kind === 'dense') {
            grads.set(s.kernel, tf.matMul(input, dz, true, false));
            if (s.bias) grads.set(s.bias, tf.sum(dz, 0));
            if (needInput) d = tf.matMul(dz, kernel, false, true);
          } else {
            grads.set(s.kernel, run('Conv2DBackpropFilter', { x: input, dy: dz }, { strides: [1, 1], pad: s.pad, dataFormat: 'NHWC', filterShape: kernel.shape }) as Tensor);
            if (s.bias) grads.set(s.bias, pooled && poolSums ? poolSums : tf.sum(dz, [0, 1, 2]));
            if (needInput) d = run('Conv2DBackpropInput', { dy: dz, filter: kernel }, { strides: [1, 1], pad: s.pad, dataFormat: 'NHWC', inputShape: input.shape }) as Tensor;
          }
        }
      }
      for (const w of weights) {
        const state = moments.get(w)!;
        const [w2, m2, v2] = run(UPDATE, { w: w.read(), g: grads.get(w)!, m: state.m, v: state.v }, { optimizer: opt.optimizer, lr: opt.learningRate, t }) as Tensor[];
        w.write(w2);
        state.m.assign(m2);
        state.v.assign(v2);
      }
      return stats;
    });
    const [loss, correct] = stats.dataSync();
    stats.dispose();
    return { loss: loss / n, accuracy: correct / n };
  };

  return {
    step,
    dispose: () => {
      for (const { m, v } of moments.values()) tf.dispose([m, v]);
      moments.clear();
    },
  };
}
