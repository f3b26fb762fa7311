/**
 * One training job as a tracked run: data loaded (and refused) before anything is recorded, then
 * params, inputs, environment, per-epoch metrics (loss, accuracy, val_*, test_accuracy,
 * samples_per_s, epoch), `evaluation.json` rewritten after every epoch (docs/views.md), and at the
 * end the model saved in tfjs format under .labbook/models/NAME/VERSION/ with its model card.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { LabbookError } from '../core/errors';
import type { RunSummary } from '../protocol/dto';
import type { TrainProgress } from '../protocol/training';
import type { ModelRecord, Store } from '../store/db';
import { captureSystem } from '../tracking/environment';
import type { TrainConfig } from './config';
import { type DataSplits, type Dataset, holdOut, loadTrainingData, seededRandom, shuffledIndexes, subset } from './data';
import { type Engine, type Tf, loadEngine } from './engine';
import { fastStep } from './fastStep';
import { recordDataInputs } from './inputs';
import { buildModel } from './models';
import { dataProfile } from './profile';
import { type Scores, confusionMatrix, scoresFrom } from './scores';
import { saveModel } from './registry';

export interface TrainOptions {
  workspace: string;
  config: TrainConfig;
  /** Config file the values came from (recorded as the run's code). */
  configFile?: string;
  command?: string;
  signal?: AbortSignal;
  onStarted?: (run: RunSummary, engine: Pick<Engine, 'backend' | 'reason' | 'gpu'>) => void;
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (epoch: number, metrics: Record<string, number>) => void;
}

export { loadTrainingData };

export interface TrainResult {
  run: string;
  status: 'finished' | 'cancelled';
  /** NAME@VERSION; null when cancelled. */
  model: string | null;
  modelRecord: ModelRecord | null;
  backend: string;
  backendReason: string;
  /** Epochs trained (fewer than configured when early stopping stopped the run). */
  epochs: number;
  /** With early stopping: the epoch of lowest val_loss, whose weights and test scores are the model's. */
  bestEpoch: number | null;
  stoppedEarlyAt: number | null;
  samplesPerS: number;
  durationS: number;
  test: Scores;
  misclassified: number[];
}

interface Example {
  index: number;
  actual: number;
  predicted: number;
  epoch: number;
  confidence: number;
  thumbnail?: { width: number; height: number; channels: number; pixels: number[] };
}

const MISCLASSIFIED_PER_CELL = 5;

/** Examples `from`–`to` of `idx` (or of the data set in order) as one batch of features and labels. */
function batchOf(d: Dataset, idx: ArrayLike<number> | null, from: number, to: number): { x: Float32Array; y: Int32Array } {
  const f = d.x.length / d.n;
  const n = to - from;
  const x = new Float32Array(n * f);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = idx ? idx[from + i] : from + i;
    x.set(d.x.subarray(k * f, (k + 1) * f), i * f);
    y[i] = d.y[k];
  }
  return { x, y };
}

function tensors(tf: Tf, d: Dataset, idx: ArrayLike<number> | null, from: number, to: number, classes: number): { x: Tensor; y: Tensor } {
  const { x, y } = batchOf(d, idx, from, to);
  return tf.tidy(() => ({ x: tf.tensor2d(x, [y.length, x.length / y.length]), y: tf.oneHot(tf.tensor1d(y, 'int32'), classes) }));
}

/** Predicted class and its probability for every example, in batches. */
async function predictAll(tf: Tf, model: LayersModel, d: Dataset, batch: number): Promise<{ predicted: Int32Array; confidence: Float32Array; loss: number }> {
  const predicted = new Int32Array(d.n);
  const confidence = new Float32Array(d.n);
  const classes = d.labels.length;
  let lossSum = 0;
  for (let from = 0; from < d.n; from += batch) {
    const to = Math.min(d.n, from + batch);
    const { x, y } = tensors(tf, d, null, from, to, classes);
    const [cls, conf, loss] = tf.tidy(() => {
      const p = model.predict(x) as Tensor;
      const l = tf.neg(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1)))));
      return [tf.argMax(p, 1), tf.max(p, 1), l];
    });
    predicted.set(await cls.data(), from);
    confidence.set(await conf.data(), from);
    lossSum += (await loss.data())[0];
    tf.dispose([x, y, cls, conf, loss]);
  }
  return { predicted, confidence, loss: lossSum / Math.max(1, d.n) };
}

function thumbnail(d: Dataset, index: number): Example['thumbnail'] {
  const f = d.x.length / d.n;
  const [h, w, c] = d.shape.length === 3 ? d.shape : [Math.round(Math.sqrt(f)), Math.round(Math.sqrt(f)), 1];
  if (h * w * c !== f || h * w * c > 128 * 128 * 3) return undefined;
  const pixels = Array.from(d.x.subarray(index * f, (index + 1) * f), (v) => Math.max(0, Math.min(255, Math.round(v * 255))));
  return { width: w, height: h, channels: c, pixels };
}

export async function train(store: Store, o: TrainOptions, data?: DataSplits): Promise<TrainResult> {
  const cfg = o.config;
  // Everything that can be refused is checked before the run exists.
  const splits = data ?? loadTrainingData(cfg);
  let trainAll = splits.train;
  if (cfg.limit > 0 && cfg.limit < trainAll.n) trainAll = subset(trainAll, Int32Array.from({ length: cfg.limit }, (_, i) => i));
  const { train: trainSet, test: valSet } = cfg.validationSplit > 0 ? holdOut(trainAll, cfg.validationSplit, cfg.seed + 1) : { train: trainAll, test: null as unknown as Dataset };
  const test = splits.test;
  const labels = trainAll.labels.length >= test.labels.length ? trainAll.labels : test.labels;
  const classes = labels.length;
  const engine = await loadEngine(cfg.backend, [o.workspace]);
  const tf = engine.tf;
  const model = buildModel(tf, cfg.model, trainSet.shape, classes, cfg);
  const optimizer = cfg.optimizer === 'sgd' ? tf.train.sgd(cfg.learningRate) : cfg.optimizer === 'rmsprop' ? tf.train.rmsprop(cfg.learningRate) : tf.train.adam(cfg.learningRate);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  // On wasm the model trains through Labbook's explicit step (fastStep.ts); elsewhere, or for a
  // layer it does not know, through tfjs-layers' trainOnBatch.
  const fast = fastStep(tf, model, cfg, seededRandom(cfg.seed + 2));

  const dataName = path.basename(cfg.data).replace(/\.gz$/i, '').replace(/\.csv$/i, '').replace(/[^A-Za-z0-9_.-]+/g, '-') || 'data';
  const modelName = cfg.name ?? `${dataName}-${cfg.model}`;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(modelName)) throw new LabbookError('BAD_ARGUMENT', `model name '${modelName}' may only use letters, digits, '_', '.', '-'`);
  const started = Date.now();
  const run = store.createRun({ name: `train ${modelName}`, kind: 'training', command: o.command, cwd: o.workspace, pid: process.pid, startedAt: started });
  // Early stopping keeps a copy of the weights of the best epoch (lowest val_loss) so far.
  let bestWeights: Tensor[] = [];
  try {
    const source = o.configFile ? 'config' : 'cli';
    store.logParams(
      run.id,
      {
        model: cfg.model,
        data: cfg.data,
        epochs: cfg.epochs,
        batch_size: cfg.batchSize,
        optimizer: cfg.optimizer,
        learning_rate: cfg.learningRate,
        validation_split: cfg.validationSplit,
        seed: cfg.seed,
        early_stopping_patience: cfg.earlyStoppingPatience,
        ...(cfg.model === 'mlp' ? { hidden: cfg.hidden } : {}),
      },
      source,
    );
    store.logParams(
      run.id,
      {
        backend: engine.backend,
        train_step: fast ? 'labbook' : 'tfjs-layers',
        test_split: splits.testSource === 'file' ? 'test file' : `held out ${cfg.testFraction}`,
        train_examples: trainSet.n,
        val_examples: valSet?.n ?? 0,
        test_examples: test.n,
        classes,
      },
      'injected',
    );
    store.addTag(run.id, `backend:${engine.backend}`);
    o.onStarted?.(run, engine);
    const hashes = await recordDataInputs(store, run.id, [...new Set([...splits.train.files, ...test.files])]);
    if (o.configFile) store.addCode(run.id, { path: o.configFile, kind: 'config', blob: store.putBlob(fs.readFileSync(o.configFile)) });
    const system = await captureSystem();
    store.setEnvironment(run.id, { ...system, gpu: engine.gpu ?? system.gpu ?? null, extra: { backend: engine.backend, backendReason: engine.reason, tfjs: tf.version.tfjs, ...(engine.gpu ? { gpuMemoryGrowth: process.env.TF_FORCE_GPU_ALLOW_GROWTH ?? null } : {}) } });

    const rand = seededRandom(cfg.seed);
    const batches = Math.ceil(trainSet.n / cfg.batchSize);
    const evaluations: Array<{ epoch: number; matrix: number[][] }> = [];
    type EpochEval = { predicted: Int32Array; confidence: Float32Array; epoch: number };
    let lastEval: EpochEval | null = null;
    let bestVal = Infinity;
    let sinceBest = 0;
    let best: { epoch: number; matrix: number[][]; eval: EpochEval } | null = null;
    let stoppedEarlyAt: number | null = null;
    let trainMs = 0;
    let trained = 0;
    let epochsDone = 0;
    let cancelled = false;
    const batchWriter = store.metricWriter(run.id);
    let globalBatch = 0;
    let lastYield = performance.now();
    for (let epoch = 1; epoch <= cfg.epochs && !cancelled; epoch++) {
      const order = shuffledIndexes(trainSet.n, rand);
      let lossSum = 0;
      let accSum = 0;
      let seen = 0;
      const t0 = performance.now();
      for (let b = 0; b < batches; b++) {
        if (o.signal?.aborted) {
          cancelled = true;
          break;
        }
        const from = b * cfg.batchSize;
        const to = Math.min(trainSet.n, from + cfg.batchSize);
        let loss: number;
        let acc: number;
        if (fast) {
          const batch = batchOf(trainSet, order, from, to);
          ({ loss, accuracy: acc } = fast.step(batch.x, batch.y, to - from));
        } else {
          const { x, y } = tensors(tf, trainSet, order, from, to, classes);
          [loss, acc] = (await model.trainOnBatch(x, y)) as number[];
          tf.dispose([x, y]);
        }
        // tfjs resolves on microtasks only: give the event loop a turn so the server keeps
        // answering requests (and sees a cancel) while it trains.
        if (performance.now() - lastYield > 20) {
          await new Promise((r) => setImmediate(r));
          lastYield = performance.now();
        }
        lossSum += loss * (to - from);
        accSum += acc * (to - from);
        seen += to - from;
        globalBatch++;
        if (b % 10 === 0 || b === batches - 1) {
          batchWriter.log('batch_loss', loss, globalBatch);
          const elapsed = (trainMs + performance.now() - t0) / 1000;
          o.onProgress?.({ runId: run.id, epoch, epochs: cfg.epochs, batch: b + 1, batches, loss, accuracy: acc, samplesPerS: (trained + seen) / Math.max(1e-9, elapsed) });
        }
      }
      trainMs += performance.now() - t0;
      trained += seen;
      if (cancelled) break;
      const metrics: Record<string, number> = { loss: lossSum / seen, accuracy: accSum / seen, samples_per_s: seen / ((performance.now() - t0) / 1000) };
      if (valSet) {
        const v = await predictAll(tf, model, valSet, 512);
        metrics.val_loss = v.loss;
        metrics.val_accuracy = v.predicted.reduce((a, p, i) => a + (p === valSet.y[i] ? 1 : 0), 0) / valSet.n;
      }
      const t = await predictAll(tf, model, test, 512);
      const matrix = confusionMatrix(test.y, t.predicted, classes);
      metrics.test_accuracy = scoresFrom(matrix, labels).accuracy;
      metrics.epoch = epoch;
      evaluations.push({ epoch, matrix });
      lastEval = { predicted: t.predicted, confidence: t.confidence, epoch };
      epochsDone = epoch;
      batchWriter.flush();
      const now = Date.now();
      store.logMetrics(run.id, Object.entries(metrics).map(([key, value]) => ({ key, value, step: epoch, wallTime: now })));
      store.addContentArtifact(run.id, 'evaluation.json', evaluationJson(labels, evaluations, test, lastEval), 'evaluation');
      o.onEpoch?.(epoch, metrics);
      if (cfg.earlyStoppingPatience > 0 && metrics.val_loss !== undefined) {
        if (metrics.val_loss < bestVal - 1e-6) {
          bestVal = metrics.val_loss;
          sinceBest = 0;
          tf.dispose(bestWeights);
          bestWeights = model.getWeights().map((w) => w.clone());
          best = { epoch, matrix, eval: lastEval };
        } else if (++sinceBest >= cfg.earlyStoppingPatience) {
          stoppedEarlyAt = epoch;
          break;
        }
      }
    }
    batchWriter.close();
    let finalMatrix = evaluations.length ? evaluations[evaluations.length - 1].matrix : confusionMatrix([], [], classes);
    // Like Keras' EarlyStopping(restore_best_weights=True): the model saved is the best epoch's,
    // whether training stopped early or ran out of epochs after its best.
    if (!cancelled && best) {
      store.logParams(run.id, { best_epoch: best.epoch, ...(stoppedEarlyAt ? { stopped_early_at_epoch: stoppedEarlyAt } : {}) }, 'injected');
      if (stoppedEarlyAt) store.addTag(run.id, 'early-stopped');
      if (best.epoch !== epochsDone) {
        model.setWeights(bestWeights);
        finalMatrix = best.matrix;
        lastEval = best.eval;
        store.addContentArtifact(run.id, 'evaluation.json', evaluationJson(labels, evaluations, test, lastEval), 'evaluation');
      }
    }
    const scores = scoresFrom(finalMatrix, labels);
    const misclassified = lastEval ? Array.from(lastEval.predicted).flatMap((p, i) => (p !== test.y[i] ? [i] : [])) : [];
    const samplesPerS = trained / Math.max(1e-9, trainMs / 1000);
    const durationS = (Date.now() - started) / 1000;
    const base = { run: run.id, backend: engine.backend, backendReason: engine.reason, epochs: epochsDone, bestEpoch: best?.epoch ?? null, stoppedEarlyAt, samplesPerS, durationS, test: scores, misclassified };
    if (cancelled) {
      store.addTag(run.id, 'cancelled');
      store.endRun(run.id, 'failed', null);
      return { ...base, status: 'cancelled', model: null, modelRecord: null };
    }
    const summary = { test_accuracy: scores.accuracy, test_macro_f1: scores.macro.f1, test_macro_precision: scores.macro.precision, test_macro_recall: scores.macro.recall };
    const record = await saveModel(store, tf, model, {
      name: modelName,
      run: run.id,
      metrics: summary,
      card: {
        model: cfg.model,
        run: run.id,
        createdAt: new Date().toISOString(),
        backend: engine.backend,
        data: { path: cfg.data, format: splits.format, hashes, shape: trainSet.shape, labels, scale: trainAll.scale, testSplit: splits.testSource },
        params: { ...cfg },
        metrics: { ...summary, epochs: epochsDone, ...(best ? { best_epoch: best.epoch } : {}), samples_per_s: samplesPerS },
        test: { accuracy: scores.accuracy, macro: scores.macro, perClass: scores.perClass, confusion: scores.confusion, misclassified },
        environment: { node: process.version, tfjs: tf.version.tfjs, backend: engine.backend, backendReason: engine.reason, gpu: engine.gpu ?? null },
        profile: dataProfile(trainAll),
      },
    });
    store.logParams(run.id, { registered_model: `${record.name}@${record.version}` }, 'injected');
    store.endRun(run.id, 'finished', 0);
    return { ...base, status: 'finished', model: `${record.name}@${record.version}`, modelRecord: record };
  } catch (e) {
    try {
      store.endRun(run.id, 'failed', null);
    } catch {
      // the store is gone too; recovery marks it crashed on the next start
    }
    throw e;
  } finally {
    tf.dispose(bestWeights);
    fast?.dispose();
    model.dispose();
  }
}

/** The evaluation artifact (docs/views.md): a matrix per epoch, a few examples per wrong cell of the last. */
function evaluationJson(labels: string[], epochs: Array<{ epoch: number; matrix: number[][] }>, test: Dataset, last: { predicted: Int32Array; confidence: Float32Array; epoch: number } | null): string {
  const misclassified: Example[] = [];
  if (last) {
    const perCell = new Map<string, number>();
    for (let i = 0; i < test.n; i++) {
      const actual = test.y[i];
      const predicted = last.predicted[i];
      if (actual === predicted) continue;
      const key = `${actual},${predicted}`;
      const count = perCell.get(key) ?? 0;
      if (count >= MISCLASSIFIED_PER_CELL) continue;
      perCell.set(key, count + 1);
      misclassified.push({ index: i, actual, predicted, epoch: last.epoch, confidence: Math.round(last.confidence[i] * 1e4) / 1e4, thumbnail: thumbnail(test, i) });
    }
  }
  return JSON.stringify({ version: 1, labels, epochs, misclassified });
}
