/**
 * A training configuration: defaults < config file (JSON or YAML) < command-line options.
 * Unknown keys and wrong types are refused with the key's name, before any run is recorded.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as YAML from 'yaml';
import { LabbookError } from '../core/errors';

export const MODEL_KINDS = ['mlp', 'cnn'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];
export const OPTIMIZERS = ['adam', 'sgd', 'rmsprop'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

export interface TrainConfig {
  data: string;
  model: ModelKind;
  /** Registry name; default `<data set>-<model>`. */
  name?: string;
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  learningRate: number;
  /** Fraction of the training split used for val_* metrics and early stopping. */
  validationSplit: number;
  /** Fraction held out as the test split when the data has no test file. */
  testFraction: number;
  seed: number;
  /** Stop when val_loss has not improved for this many epochs (0: never). */
  earlyStoppingPatience: number;
  /** Hidden units of the MLP. */
  hidden: number;
  /** The label column of a CSV (name or 0-based index). */
  labelColumn?: string | number;
  /** Use at most this many training examples (0: all). */
  limit: number;
  backend?: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
}

export const DEFAULTS: Omit<TrainConfig, 'data' | 'model'> = {
  epochs: 10,
  batchSize: 32,
  optimizer: 'adam',
  learningRate: 0.001,
  validationSplit: 0.1,
  testFraction: 0.2,
  seed: 42,
  earlyStoppingPatience: 0,
  hidden: 128,
  limit: 0,
};

/** Snake-case spellings accepted too (batch_size), as users of Keras write them. */
const ALIASES: Record<string, keyof TrainConfig> = {
  batch_size: 'batchSize',
  learning_rate: 'learningRate',
  lr: 'learningRate',
  validation_split: 'validationSplit',
  test_fraction: 'testFraction',
  early_stopping_patience: 'earlyStoppingPatience',
  patience: 'earlyStoppingPatience',
  label_column: 'labelColumn',
};

const NUMBERS: Array<[keyof TrainConfig, number, number, boolean]> = [
  ['epochs', 1, 100000, true],
  ['batchSize', 1, 1 << 20, true],
  ['learningRate', 1e-12, 10, false],
  ['validationSplit', 0, 0.9, false],
  ['testFraction', 0.01, 0.9, false],
  ['seed', 0, 2 ** 31, true],
  ['earlyStoppingPatience', 0, 100000, true],
  ['hidden', 1, 1 << 16, true],
  ['limit', 0, 2 ** 31, true],
];

function bad(where: string, msg: string): LabbookError {
  return new LabbookError('BAD_ARGUMENT', `${where}: ${msg}`);
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LabbookError('NOT_FOUND', `cannot read training config ${file}: ${(e as Error).message}`, { cause: e });
  }
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? YAML.parse(text) : JSON.parse(text);
  } catch (e) {
    throw bad(file, `not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw bad(file, 'a training config is a mapping of keys (data, model, epochs, …)');
  const out = { ...(data as Record<string, unknown>) };
  // A relative data path in a config file is relative to the file.
  if (typeof out.data === 'string' && !path.isAbsolute(out.data)) out.data = path.resolve(path.dirname(file), out.data);
  return out;
}

/** Merges layers (later wins) and checks every key and value. */
export function resolveConfig(layers: Array<{ source: string; values: Record<string, unknown> }>): TrainConfig {
  const merged: Record<string, unknown> = { ...DEFAULTS };
  const known = new Set<string>([...Object.keys(DEFAULTS), 'data', 'model', 'name', 'labelColumn', 'backend']);
  for (const { source, values } of layers) {
    for (const [k0, v] of Object.entries(values)) {
      if (v === undefined) continue;
      const k = ALIASES[k0] ?? k0;
      if (!known.has(k)) throw bad(source, `unknown training option '${k0}' (known: ${[...known].join(', ')})`);
      merged[k] = v;
    }
  }
  const where = layers.map((l) => l.source).join(' + ') || 'training config';
  if (typeof merged.data !== 'string' || !merged.data) throw bad(where, "no data given (--data PATH or 'data' in the config)");
  if (!MODEL_KINDS.includes(merged.model as ModelKind)) throw bad(where, `model must be one of ${MODEL_KINDS.join(', ')} (got ${JSON.stringify(merged.model ?? null)})`);
  if (!OPTIMIZERS.includes(merged.optimizer as (typeof OPTIMIZERS)[number])) throw bad(where, `optimizer must be one of ${OPTIMIZERS.join(', ')}`);
  for (const [k, min, max, int] of NUMBERS) {
    const v = typeof merged[k] === 'string' && merged[k] !== '' ? Number(merged[k]) : merged[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (int && !Number.isInteger(v))) {
      throw bad(where, `${k} must be ${int ? 'an integer' : 'a number'} from ${min} to ${max} (got ${JSON.stringify(merged[k])})`);
    }
    merged[k] = v;
  }
  if ((merged.earlyStoppingPatience as number) > 0 && merged.validationSplit === 0) {
    throw bad(where, 'early stopping watches val_loss, which needs a validation split: set validationSplit above 0 or earlyStoppingPatience to 0');
  }
  if (merged.backend !== undefined && !['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(merged.backend as string)) {
    throw bad(where, 'backend must be one of tensorflow-gpu, tensorflow, wasm, cpu');
  }
  return merged as unknown as TrainConfig;
}
