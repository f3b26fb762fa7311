/**
 * After training: evaluate a registered model on held-out data, deploy it behind the quality gate
 * (or roll back), predict with it (every prediction logged), and check logged inputs for drift
 * against the training profile.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { LabbookError } from '../core/errors';
import type { DriftResult } from '../protocol/training';
import type { DeploymentRecord, ModelRecord, Store } from '../store/db';
import type { TrainConfig } from './config';
import { type Dataset, loadData, readCsv, readIdxPair, readMaybeGzip, readPng } from './data';
import { withChannels } from './png';
import { type Tf, loadEngine } from './engine';
import type { DataProfile } from './profile';
import { type LoadedModel, findModel, loadModel, readModelFiles } from './registry';
import { type Scores, confusionMatrix, scoresFrom } from './scores';

async function predictBatches(tf: Tf, model: LayersModel, x: Float32Array, n: number, features: number): Promise<{ predicted: Int32Array; confidence: Float32Array; probabilities: Float32Array }> {
  const predicted = new Int32Array(n);
  const confidence = new Float32Array(n);
  const classes = (model.outputs[0].shape[1] as number) ?? 0;
  const probabilities = new Float32Array(n * classes);
  for (let from = 0; from < n; from += 1024) {
    const to = Math.min(n, from + 1024);
    const [p, cls, conf] = tf.tidy(() => {
      const probs = model.predict(tf.tensor2d(x.subarray(from * features, to * features), [to - from, features])) as Tensor;
      return [probs, tf.argMax(probs, 1), tf.max(probs, 1)];
    });
    probabilities.set(await p.data(), from * classes);
    predicted.set(await cls.data(), from);
    confidence.set(await conf.data(), from);
    tf.dispose([p, cls, conf]);
  }
  return { predicted, confidence, probabilities };
}

function checkShape(loaded: LoadedModel, d: Dataset, source: string): void {
  const want = loaded.card.data.shape.reduce((a, b) => a * b, 1);
  const got = d.x.length / Math.max(1, d.n);
  if (d.n > 0 && got !== want) {
    throw new LabbookError('BAD_DATA', `${source} has ${got} values per example; model ${loaded.record.name}@${loaded.record.version} takes ${want} (${loaded.card.data.shape.join('×')})`);
  }
}

export interface Evaluation extends Scores {
  model: string;
  examples: number;
  misclassified: number[];
}

/**
 * Scores a model on the test split it was trained with, or on `dataPath`: its test file when it
 * has one, else all of it — none of another data set was trained on (a folder holding only MNIST's
 * t10k files is 10,000 test images, not a 20 % sample of them).
 */
export async function evaluateModel(store: Store, ref: string, dataPath?: string): Promise<Evaluation> {
  const { tf } = await loadEngine();
  const loaded = await loadModel(store, tf, ref);
  try {
    const params = loaded.card.params as Partial<TrainConfig> & { data?: string };
    const data = dataPath ?? params.data;
    if (!data) throw new LabbookError('BAD_ARGUMENT', 'give --data PATH: the model card names no data');
    const other = dataPath !== undefined && (!params.data || path.resolve(dataPath) !== path.resolve(params.data));
    const test = loadData(data, { testFraction: other ? 1 : params.testFraction, seed: params.seed, labelColumn: params.labelColumn }).test;
    checkShape(loaded, test, data);
    const f = test.x.length / test.n;
    const { predicted } = await predictBatches(tf, loaded.model, test.x, test.n, f);
    const labels = loaded.card.data.labels;
    const scores = scoresFrom(confusionMatrix(test.y, predicted, labels.length), labels);
    const misclassified = Array.from(predicted).flatMap((p, i) => (p !== test.y[i] ? [i] : []));
    return { model: `${loaded.record.name}@${loaded.record.version}`, examples: test.n, misclassified, ...scores };
  } finally {
    loaded.model.dispose();
  }
}

export interface DeployOptions {
  /**
   * NAME or NAME@VERSION: deploy that model, chosen by the user, without the gate (recorded as
   * chosen). Default: the newest registered model, through the gate.
   */
  model?: string;
  threshold: number;
  force?: boolean;
}

export interface DeployResult {
  deployed: boolean;
  model: string;
  reason: string;
  /** How it went to production: through the gate, forced past it, or chosen by name. */
  how: 'gate' | 'forced' | 'chosen' | null;
  record: DeploymentRecord;
}

/**
 * The quality gate: the newest model's test accuracy must reach `threshold` and not be worse than
 * the production model's. `force` deploys anyway and is recorded as forced; a model named by the
 * user is deployed without the gate and recorded as chosen (the gate's figures kept with it). A
 * refused deployment is recorded too (passed = false) and changes nothing else. A model whose
 * folder is missing or damaged is never deployed (refused before anything is recorded).
 */
export function deploy(store: Store, o: DeployOptions): DeployResult {
  const all = store.listModels();
  if (all.length === 0) throw new LabbookError('NOT_FOUND', 'no models to deploy (labbook train … first)');
  const candidate = o.model ? findModel(store, o.model) : [...all].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id).pop()!;
  readModelFiles(store, candidate);
  const name = `${candidate.name}@${candidate.version}`;
  const current = all.find((m) => m.stage === 'production');
  const acc = candidate.metrics.test_accuracy;
  const currentAcc = current?.metrics.test_accuracy;
  let reason: string;
  let passed = false;
  if (current && current.id === candidate.id) reason = `${name} is already in production`;
  else if (acc === undefined) reason = `${name} has no test accuracy`;
  else if (acc < o.threshold) reason = `test accuracy ${pct(acc)} is below the threshold ${pct(o.threshold)}`;
  else if (current && currentAcc !== undefined && acc < currentAcc) reason = `test accuracy ${pct(acc)} is worse than production ${current.name}@${current.version} (${pct(currentAcc)})`;
  else {
    passed = true;
    reason = `test accuracy ${pct(acc)} ≥ ${pct(o.threshold)}${current ? ` and ≥ production ${current.name}@${current.version} (${pct(currentAcc ?? 0)})` : ''}`;
  }
  const already = current?.id === candidate.id;
  if (already) return { deployed: false, model: name, reason, how: null, record: store.deployments()[0] };
  // Naming a model is choosing it: the gate's verdict is kept for the record, not applied.
  // --force past a failing gate is recorded as forced, named or not (what "Deploy anyway" sends).
  const forced = !passed && !!o.force;
  const chosen = !!o.model && !forced;
  const how = chosen ? 'chosen' : passed ? 'gate' : forced ? 'forced' : null;
  if (chosen) reason = `chosen by name${passed ? ` (the gate would pass: ${reason})` : `, past the gate (${reason})`}`;
  else if (forced) reason = `forced past the gate: ${reason}`;
  const gate = { accuracy: acc ?? null, threshold: o.threshold, production: current ? `${current.name}@${current.version}` : null, productionAccuracy: currentAcc ?? null, reason };
  const record = store.recordDeployment(candidate.id, { gate, passed, forced, chosen, by: os.userInfo().username });
  return { deployed: how !== null, model: name, reason, how, record };
}

/** Restores the model that was in production before the current one. */
export function rollback(store: Store): { model: string; from: string } {
  const deployed = store.deployments().filter((d) => d.passed || d.forced || d.chosen);
  if (deployed.length === 0) throw new LabbookError('NOT_FOUND', 'nothing has been deployed, so there is nothing to roll back');
  const current = deployed[0];
  const previous = deployed.find((d) => d.modelId !== current.modelId);
  if (!previous) throw new LabbookError('NOT_FOUND', `${current.model} is the only model ever deployed: there is no earlier one to restore`);
  const record = store.listModels().find((m) => m.id === previous.modelId);
  if (record) readModelFiles(store, record);
  store.recordDeployment(previous.modelId, { gate: { rollback: true, from: current.model, reason: `rolled back from ${current.model}` }, passed: true, forced: false, by: os.userInfo().username });
  return { model: previous.model, from: current.model };
}

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;

export interface Prediction {
  input: string;
  class: string;
  classIndex: number;
  confidence: number;
  review: boolean;
  probabilities?: number[];
}

/**
 * Examples from prediction inputs: CSV rows (a label column, if any, ignored), IDX images, JSON
 * arrays, PNG images (of the model's size; gray or RGB converted to the model's channels).
 */
export function readInputs(file: string, shape: number[]): { names: string[]; x: Float32Array; scale: (s: number) => void } {
  const features = shape.reduce((a, b) => a * b, 1);
  const rows: Float32Array[] = [];
  const names: string[] = [];
  // IDX and PNG images come scaled to [0, 1]; raw CSV/JSON values are divided by the training scale.
  let raw = false;
  if (/\.png$/i.test(file)) {
    const img = readPng(file);
    const [h, w, c] = shape;
    if (shape.length !== 3 || (c !== 1 && c !== 3)) throw new LabbookError('BAD_DATA', `${file}: this model was trained on ${shape.join('×')} values, not images`);
    if (img.width !== w || img.height !== h) throw new LabbookError('BAD_DATA', `${file} is ${img.width}×${img.height}; the model takes ${w}×${h} images (Labbook does not resize)`);
    rows.push(withChannels(img, c));
    names.push(path.basename(file));
  } else if (/images[-.]idx3-ubyte(\.gz)?$/.test(file)) {
    const labels = file.replace(/images([-.])idx3/, 'labels$1idx1');
    const d = readIdxPair(file, labels);
    for (let i = 0; i < d.n; i++) {
      rows.push(d.x.subarray(i * features, (i + 1) * features));
      names.push(`${path.basename(file)}#${i}`);
    }
  } else if (/\.json$/i.test(file)) {
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new LabbookError('BAD_DATA', `${file}: not valid JSON (${(e as Error).message})`);
    }
    const list = Array.isArray(data) && data.every((v) => typeof v === 'number') ? [data] : data;
    if (!Array.isArray(list) || !list.every((r) => Array.isArray(r) && r.length === features && r.every((v) => typeof v === 'number' && Number.isFinite(v)))) {
      throw new LabbookError('BAD_DATA', `${file}: expected an array of ${features} raw values, or an array of such arrays`);
    }
    list.forEach((r: number[], i) => {
      rows.push(Float32Array.from(r));
      names.push(list === data ? `${path.basename(file)}#${i}` : path.basename(file));
    });
    raw = true;
  } else {
    // A row of exactly `features` values has no label; one more column is a label, set aside.
    const first = readMaybeGzip(file).subarray(0, 1 << 20).toString('utf8').split(/\r?\n/, 1)[0];
    const d = readCsv(file, first.split(',').length === features ? { labelColumn: null } : {});
    const width = d.x.length / d.n;
    if (width !== features) throw new LabbookError('BAD_DATA', `${file}: rows have ${width} feature values; the model takes ${features}`);
    for (let i = 0; i < d.n; i++) {
      rows.push(d.x.subarray(i * features, (i + 1) * features).map((v) => v * d.scale));
      names.push(`${path.basename(file)}:${i + 1}`);
    }
    raw = true;
  }
  const x = new Float32Array(rows.length * features);
  rows.forEach((r, i) => x.set(r, i * features));
  return {
    names,
    x,
    scale: (s: number) => {
      if (raw) for (let i = 0; i < x.length; i++) x[i] /= s;
    },
  };
}

/** The PNG files in a folder and its subfolders (hidden ones skipped), sorted by path. */
function pngFilesUnder(dir: string): string[] {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/\.png$/i.test(e.name)) files.push(path.join(d, e.name));
    }
  };
  walk(dir);
  if (files.length === 0) throw new LabbookError('BAD_DATA', `${dir}: a folder given to predict must hold PNG images (in it or its subfolders); it has none`);
  return files.sort();
}

export interface PredictOptions {
  minConfidence: number;
  probabilities?: boolean;
}

export async function predict(store: Store, ref: string, inputs: string[], o: PredictOptions): Promise<{ model: string; predictions: Prediction[] }> {
  const { tf } = await loadEngine();
  const loaded = await loadModel(store, tf, ref);
  try {
    const features = loaded.card.data.shape.reduce((a, b) => a * b, 1);
    const names: string[] = [];
    const parts: Float32Array[] = [];
    for (const input of inputs) {
      if (!fs.existsSync(input)) throw new LabbookError('NOT_FOUND', `no input file ${input}`);
      const folder = fs.statSync(input).isDirectory();
      for (const file of folder ? pngFilesUnder(input) : [input]) {
        const r = readInputs(file, loaded.card.data.shape);
        r.scale(loaded.card.data.scale);
        // A folder's images are named by their path in it (class subfolders show).
        names.push(...(folder ? [path.relative(input, file).split(path.sep).join('/')] : r.names));
        parts.push(r.x);
      }
    }
    const x = new Float32Array(names.length * features);
    let at = 0;
    for (const p of parts) {
      x.set(p, at);
      at += p.length;
    }
    return { model: `${loaded.record.name}@${loaded.record.version}`, predictions: await classify(store, tf, loaded, names, x, o) };
  } finally {
    loaded.model.dispose();
  }
}

/** One example of raw values (real-time use from the server); logged like every prediction. */
export async function predictValues(store: Store, ref: string, values: number[], o: PredictOptions): Promise<Prediction & { model: string }> {
  const { tf } = await loadEngine();
  const loaded = await loadModel(store, tf, ref);
  try {
    const features = loaded.card.data.shape.reduce((a, b) => a * b, 1);
    if (values.length !== features || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new LabbookError('BAD_DATA', `model ${loaded.record.name}@${loaded.record.version} takes ${features} numbers (got ${values.length})`);
    }
    const x = Float32Array.from(values, (v) => v / loaded.card.data.scale);
    const [p] = await classify(store, tf, loaded, ['values'], x, o);
    return { model: `${loaded.record.name}@${loaded.record.version}`, ...p };
  } finally {
    loaded.model.dispose();
  }
}

async function classify(store: Store, tf: Tf, loaded: LoadedModel, names: string[], x: Float32Array, o: PredictOptions): Promise<Prediction[]> {
  const features = loaded.card.data.shape.reduce((a, b) => a * b, 1);
  const n = names.length;
  const out = await predictBatches(tf, loaded.model, x, n, features);
  const labels = loaded.card.data.labels;
  const k = labels.length;
  const predictions: Prediction[] = [];
  const log: { inputHash: string; output: string; confidence: number }[] = [];
  for (let i = 0; i < n; i++) {
    const row = x.subarray(i * features, (i + 1) * features);
    const cls = out.predicted[i];
    const confidence = out.confidence[i];
    predictions.push({
      input: names[i],
      class: labels[cls],
      classIndex: cls,
      confidence,
      review: confidence < o.minConfidence,
      ...(o.probabilities ? { probabilities: Array.from(out.probabilities.subarray(i * k, (i + 1) * k)) } : {}),
    });
    const mean = row.reduce((a, v) => a + v, 0) / features;
    log.push({ inputHash: crypto.createHash('sha256').update(Buffer.from(row.buffer, row.byteOffset, row.byteLength)).digest('hex'), output: JSON.stringify({ class: cls, mean }), confidence });
  }
  store.logPredictions(loaded.record.id, log);
  return predictions;
}

/** Two-sample Kolmogorov–Smirnov: the statistic and an asymptotic p-value. */
export function ksTest(a: number[], b: number[]): { d: number; p: number } {
  const x = [...a].sort((u, v) => u - v);
  const y = [...b].sort((u, v) => u - v);
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] <= v) i++;
    while (j < y.length && y[j] <= v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  const ne = (x.length * y.length) / (x.length + y.length);
  const lambda = (Math.sqrt(ne) + 0.12 + 0.11 / Math.sqrt(ne)) * d;
  let p = 0;
  for (let k = 1; k <= 100; k++) p += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * lambda * lambda);
  return { d, p: Math.max(0, Math.min(1, p)) };
}

/** Population stability index of two distributions over the same bins (counts). */
export function psi(expected: number[], actual: number[]): number {
  const te = expected.reduce((a, b) => a + b, 0);
  const ta = actual.reduce((a, b) => a + b, 0);
  let s = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(1e-4, expected[i] / te);
    const q = Math.max(1e-4, actual[i] / ta);
    s += (q - e) * Math.log(q / e);
  }
  return s;
}

/** The drift check's answer, as the protocol carries it to VS Code. */
export type DriftReport = DriftResult;

/** Logged prediction inputs against the training profile: KS on per-example means, PSI on the predicted class mix. */
export function drift(store: Store, ref: string, o: { alpha?: number; psiLimit?: number } = {}): DriftReport {
  const record: ModelRecord = findModel(store, ref);
  const dir = path.resolve(path.dirname(store.paths.dir), record.path);
  let profile: DataProfile;
  try {
    profile = (JSON.parse(fs.readFileSync(path.join(dir, 'card.json'), 'utf8')) as { profile: DataProfile }).profile;
  } catch (e) {
    throw new LabbookError('BAD_MODEL', `model ${record.name}@${record.version} (${record.path}): card.json cannot be read (${(e as Error).message})`);
  }
  const logged = store.predictions(record.id).map((p) => JSON.parse(p.output) as { class: number; mean: number });
  const name = `${record.name}@${record.version}`;
  if (logged.length < 20) throw new LabbookError('BAD_ARGUMENT', `${name} has ${logged.length} logged prediction(s); a drift check needs at least 20`);
  const ks = ksTest(profile.exampleMeans, logged.map((l) => l.mean));
  const mix = new Array<number>(profile.classCounts.length).fill(0);
  for (const l of logged) mix[l.class]++;
  const p = psi(profile.classCounts, mix);
  const alpha = o.alpha ?? 0.01;
  const limit = o.psiLimit ?? 0.25;
  const reasons: string[] = [];
  if (ks.p < alpha) reasons.push(`input intensities differ from training (KS D=${ks.d.toFixed(3)}, p=${ks.p.toExponential(2)} < ${alpha})`);
  if (p > limit) reasons.push(`predicted class mix shifted (PSI ${p.toFixed(3)} > ${limit})`);
  return { model: name, predictions: logged.length, ks: { statistic: ks.d, pValue: ks.p }, psi: p, drifted: reasons.length > 0, reasons };
}
