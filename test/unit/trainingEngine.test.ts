import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { loadEngine, optionalRequire } from '../../server/training/engine';

/** Gradients of sum(conv2d(x, w) · r) for x and w, on one backend. */
async function convGrads(backend: string, xs: number[], ws: number[], strides: number, pad: 'same' | 'valid', seed: number) {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomNormal(xs as [number, number, number, number], 0, 1, 'float32', seed);
    const w = tf.randomNormal(ws as [number, number, number, number], 0, 1, 'float32', seed + 1);
    const outShape = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, strides, pad).shape;
    const r = tf.randomNormal(outShape, 0, 1, 'float32', seed + 2);
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, strides, pad), r)));
    const [dx, dw] = g([x, w]);
    return { dx: Float32Array.from(dx.dataSync()), dw: Float32Array.from(dw.dataSync()), dxShape: dx.shape, dwShape: dw.shape };
  });
}

function maxRelError(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

describe('training engine: wasm conv gradients', () => {
  it('picks a working backend of the ladder and says why', async () => {
    const e = await loadEngine();
    assert.equal(e.backend, 'wasm', e.reason);
    assert.match(e.reason, /wasm.*skipped: @tensorflow\/tfjs-node-gpu is not installed/);
  });

  const cases: Array<[string, number[], number[], number, 'same' | 'valid']> = [
    ['3×3 valid, stride 1 (the seed CNN)', [4, 12, 12, 3], [3, 3, 3, 8], 1, 'valid'],
    ['3×3 same, stride 1', [2, 9, 9, 4], [3, 3, 4, 5], 1, 'same'],
    ['5×5 same, stride 2 (odd size)', [3, 11, 11, 2], [5, 5, 2, 3], 2, 'same'],
    ['2×3 valid, stride 2', [2, 10, 9, 3], [2, 3, 3, 4], 2, 'valid'],
  ];
  for (const [name, xs, ws, strides, pad] of cases) {
    it(`matches the cpu backend's gradients: ${name}`, async () => {
      await loadEngine('wasm');
      const before = tf.memory().numBytes;
      const wasm = await convGrads('wasm', xs, ws, strides, pad, 11);
      assert.equal(tf.memory().numBytes, before, 'no tensor memory leaked on wasm');
      const cpu = await convGrads('cpu', xs, ws, strides, pad, 11);
      assert.deepEqual(wasm.dwShape, ws);
      assert.deepEqual(wasm.dxShape, xs);
      assert.ok(maxRelError(wasm.dw, cpu.dw) < 1e-4, `dW relative error ${maxRelError(wasm.dw, cpu.dw)}`);
      assert.ok(maxRelError(wasm.dx, cpu.dx) < 1e-4, `dX relative error ${maxRelError(wasm.dx, cpu.dx)}`);
      await tf.setBackend('wasm');
    });
  }
});

describe('training engine: wasm max-pool gradient', () => {
  const cases: Array<[string, number[], number]> = [
    ['2×2 on an even image', [3, 12, 12, 4], 2],
    ['2×2 on an odd image (last row and column dropped)', [2, 13, 11, 3], 2],
    ['3×3', [2, 9, 9, 2], 3],
  ];
  for (const [name, shape, k] of cases) {
    it(`matches the cpu backend, ties included: ${name}`, async () => {
      await loadEngine('wasm');
      const grads = async (backend: string) => {
        await tf.setBackend(backend);
        return tf.tidy(() => {
          // Rounded values make ties inside windows common: the first maximum must win.
          const x = tf.round(tf.mul(tf.randomUniform(shape as [number, number, number, number], 0, 1, 'float32', 5), 3));
          const r = tf.randomNormal(tf.maxPool(x as tf.Tensor4D, k, k, 'valid').shape, 0, 1, 'float32', 6);
          const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, k, k, 'valid'), r)));
          return Float32Array.from(g(x).dataSync());
        });
      };
      const before = tf.memory().numBytes;
      const wasm = await grads('wasm');
      assert.equal(tf.memory().numBytes, before, 'no tensor memory leaked on wasm');
      const cpu = await grads('cpu');
      // `+ 0` folds -0 (0 × a negative dy) into 0: the same gradient.
      assert.deepEqual(Array.from(wasm, (v) => v + 0), Array.from(cpu, (v) => v + 0));
      await tf.setBackend('wasm');
    });
  }
});

describe('training engine: finding an optional tfjs-node package', () => {
  it("loads a package from the workspace's node_modules when Labbook has none, else says it is missing", () => {
    const ws = fs.mkdtempSync(path.join(os.tmpdir(), 'labbook-optional-'));
    const pkg = path.join(ws, 'node_modules', '@labbook-test', 'only-in-workspace');
    fs.mkdirSync(pkg, { recursive: true });
    fs.writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@labbook-test/only-in-workspace', main: 'index.js' }));
    fs.writeFileSync(path.join(pkg, 'index.js'), 'module.exports = { foundIn: __dirname };');
    assert.throws(() => optionalRequire('@labbook-test/only-in-workspace', []), /Cannot find module/);
    assert.equal((optionalRequire('@labbook-test/only-in-workspace', [ws]) as { foundIn: string }).foundIn, pkg);
  });
});
