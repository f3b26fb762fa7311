/**
 * The model registry on disk: .labbook/models/NAME/VERSION/ holds model.json (tfjs layers format:
 * topology + weights manifest), weights.bin and card.json (the model card). A version is written
 * to a temporary folder first and renamed into place in the transaction that registers it, so a
 * failed save leaves neither a half folder nor a registry row.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { LayersModel, io } from '@tensorflow/tfjs';
import { LabbookError } from '../core/errors';
import type { ModelRecord, Store } from '../store/db';
import type { Tf } from './engine';

export interface SaveOptions {
  name: string;
  run: string | null;
  metrics: Record<string, number>;
  card: Record<string, unknown>;
}

export async function saveModel(store: Store, tf: Tf, model: LayersModel, o: SaveOptions): Promise<ModelRecord> {
  let artifacts: io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  if (!artifacts?.weightData || !artifacts.weightSpecs) throw new Error('tfjs returned no weights to save');
  const weights = Buffer.from(tf.io.concatenateArrayBuffers(([] as ArrayBuffer[]).concat(artifacts.weightData as ArrayBuffer | ArrayBuffer[])));
  const modelsDir = path.join(store.paths.dir, 'models', o.name);
  fs.mkdirSync(modelsDir, { recursive: true });
  const tmp = path.join(modelsDir, `.incoming-${process.pid}-${crypto.randomBytes(4).toString('hex')}`);
  fs.mkdirSync(tmp);
  try {
    const modelJson = {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    };
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(modelJson));
    fs.writeFileSync(path.join(tmp, 'weights.bin'), weights);
    const sha = crypto.createHash('sha256').update(weights).digest('hex');
    return store.registerModel(o.name, o.run, o.metrics, (version) => {
      const dir = path.join(modelsDir, String(version));
      fs.writeFileSync(path.join(tmp, 'card.json'), JSON.stringify({ name: o.name, version, weightsSha256: sha, ...o.card }, null, 1));
      fs.renameSync(tmp, dir);
      return path.relative(path.dirname(store.paths.dir), dir);
    });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

export interface LoadedModel {
  record: ModelRecord;
  model: LayersModel;
  card: Record<string, unknown> & { data: { shape: number[]; labels: string[]; scale: number }; profile?: unknown };
}

/** NAME, NAME@VERSION or NAME@production → its registry row (newest version by default). */
export function findModel(store: Store, ref: string): ModelRecord {
  const [name, version] = ref.split('@');
  const all = store.listModels(name);
  if (all.length === 0) {
    const names = [...new Set(store.listModels().map((m) => m.name))];
    throw new LabbookError('NOT_FOUND', `no model named '${name}'${names.length ? ` (models: ${names.join(', ')})` : ' (no models yet: labbook train …)'}`);
  }
  if (version === undefined) return all[all.length - 1];
  const found = version === 'production' ? all.filter((m) => m.stage === 'production').pop() : all.find((m) => String(m.version) === version);
  if (!found) throw new LabbookError('NOT_FOUND', `model '${name}' has no version ${version} (versions: ${all.map((m) => m.version).join(', ')})`);
  return found;
}

interface ModelFiles {
  modelJson: { modelTopology?: object; weightsManifest?: Array<{ weights: io.WeightsManifestEntry[] }> };
  card: LoadedModel['card'];
  weights: Buffer;
  what: string;
}

/**
 * Reads and checks a registered model's folder without loading it into TensorFlow.js: every file
 * there, model.json and card.json valid JSON, weights.bin matching the card's checksum and the
 * size model.json announces. A missing or damaged folder is refused saying which file and why.
 */
export function readModelFiles(store: Store, record: ModelRecord): ModelFiles {
  const dir = path.resolve(path.dirname(store.paths.dir), record.path);
  const what = `model ${record.name}@${record.version} (${record.path})`;
  const read = (f: string) => {
    try {
      return fs.readFileSync(path.join(dir, f));
    } catch {
      throw new LabbookError('BAD_MODEL', `${what} is missing ${f}: the folder was moved or damaged; train it again or pick another version`);
    }
  };
  const json = <T>(f: string): T => {
    try {
      return JSON.parse(read(f).toString('utf8')) as T;
    } catch (e) {
      if (e instanceof LabbookError) throw e;
      throw new LabbookError('BAD_MODEL', `${what}: ${f} is not valid JSON (${(e as Error).message})`, { cause: e });
    }
  };
  const modelJson = json<ModelFiles['modelJson']>('model.json');
  const card = json<LoadedModel['card']>('card.json');
  if (!modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) throw new LabbookError('BAD_MODEL', `${what}: model.json has no modelTopology or weightsManifest (not a TensorFlow.js layers model)`);
  if (!card.data || !Array.isArray(card.data.shape) || !Array.isArray(card.data.labels)) throw new LabbookError('BAD_MODEL', `${what}: card.json has no data shape and labels`);
  const weights = read('weights.bin');
  const bytes: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };
  const announced = modelJson.weightsManifest.flatMap((m) => m.weights).reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1) * (bytes[w.dtype ?? 'float32'] ?? 4), 0);
  if (weights.length !== announced) throw new LabbookError('BAD_MODEL', `${what}: weights.bin has ${weights.length} bytes where model.json announces ${announced} (cut short or replaced)`);
  if (typeof card.weightsSha256 === 'string' && crypto.createHash('sha256').update(weights).digest('hex') !== card.weightsSha256) {
    throw new LabbookError('BAD_MODEL', `${what}: weights.bin does not match the checksum in its model card (damaged or replaced)`);
  }
  return { modelJson, card, weights, what };
}

/** Loads a registered model; a missing or damaged folder is refused with what is wrong. */
export async function loadModel(store: Store, tf: Tf, ref: string): Promise<LoadedModel> {
  const record = findModel(store, ref);
  const { modelJson, card, weights, what } = readModelFiles(store, record);
  try {
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: modelJson.weightsManifest?.flatMap((m) => m.weights) ?? [],
        weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length) as ArrayBuffer,
      }),
    );
    return { record, model, card };
  } catch (e) {
    throw new LabbookError('BAD_MODEL', `${what} cannot be loaded: ${(e as Error).message}`, { cause: e });
  }
}
