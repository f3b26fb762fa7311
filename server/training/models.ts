/**
 * The two model architectures, built with the engine's own `tf` and seeded initialisers, so a
 * seeded run repeats on the same backend.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { ModelKind, TrainConfig } from './config';
import type { Tf } from './engine';

/** The image shape a CNN sees: images as they are, square feature rows (8×8 digits) as images. */
export function cnnInputShape(shape: number[]): [number, number, number] | null {
  if (shape.length === 3) return shape as [number, number, number];
  const side = Math.round(Math.sqrt(shape[0]));
  return side * side === shape[0] ? [side, side, 1] : null;
}

export function buildModel(tf: Tf, kind: ModelKind, shape: number[], classes: number, config: Pick<TrainConfig, 'seed' | 'hidden'>): LayersModel {
  let seed = config.seed;
  const init = () => tf.initializers.glorotUniform({ seed: seed++ });
  const features = shape.reduce((a, b) => a * b, 1);
  const model = tf.sequential();
  if (kind === 'mlp') {
    model.add(tf.layers.dense({ inputShape: [features], units: config.hidden, activation: 'relu', kernelInitializer: init() }));
    model.add(tf.layers.dropout({ rate: 0.2, seed: seed++ }));
    model.add(tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init() }));
    return model;
  }
  const image = cnnInputShape(shape);
  if (!image) throw new Error(`a CNN needs images or square feature rows; this data has ${features} features`);
  // The seed project's digit CNN: conv32 → conv64 → pool → dropout → dense128 → dropout → dense.
  model.add(tf.layers.reshape({ inputShape: [features], targetShape: image }));
  model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: init() }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: init() }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.dropout({ rate: 0.25, seed: seed++ }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: init() }));
  model.add(tf.layers.dropout({ rate: 0.5, seed: seed++ }));
  model.add(tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init() }));
  return model;
}
