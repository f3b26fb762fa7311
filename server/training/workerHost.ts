/**
 * Runs the server's heavy TensorFlow.js work in a worker thread (worker.ts, bundled beside the
 * server as trainWorker.js): training jobs, with the same options and callbacks as calling `train`
 * directly, evaluations and batch predictions (a CNN over 10,000 images is seconds of compute). Where that file
 * is not there (code run from a test bundle), the work runs in this thread instead. If the worker
 * dies without saying how a training job ended, its run is marked failed here, so nothing it
 * recorded is lost or left 'running'.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { LabbookError, type LabbookErrorCode } from '../core/errors';
import type { RunSummary } from '../protocol/dto';
import type { TrainProgress } from '../protocol/training';
import type { Store } from '../store/db';
import type { DataSplits } from './data';
import type { Engine } from './engine';
import { preferGpuMemoryGrowth } from './gpuEnv';
import type { Evaluation, PredictOptions, Prediction } from './lifecycle';
import type { TrainOptions, TrainResult } from './train';

type Plain = Omit<TrainOptions, 'signal' | 'onStarted' | 'onProgress' | 'onEpoch'>;

export type WorkerJob =
  | { kind: 'train'; options: Plain; data: DataSplits }
  | { kind: 'evaluate'; workspace: string; model: string; data?: string }
  | { kind: 'predict'; workspace: string; model: string; inputs: string[]; options: PredictOptions };
export type ToWorker = { type: 'cancel' };
export type FromWorker =
  | { type: 'started'; run: RunSummary; engine: Pick<Engine, 'backend' | 'reason' | 'gpu'> }
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'epoch'; epoch: number; metrics: Record<string, number> }
  | { type: 'done'; result: unknown }
  | { type: 'failed'; code: LabbookErrorCode | null; message: string; stack?: string };

export const WORKER_FILE = 'trainWorker.js';

/** Runs `job` in a worker; `onMessage` sees its reports, `onDied` runs when it dies without an answer. */
function runWorker<R>(file: string, job: WorkerJob, o: { signal?: AbortSignal; onMessage?: (m: FromWorker) => void; onDied?: () => void } = {}): Promise<R> {
  preferGpuMemoryGrowth();
  return new Promise<R>((resolve, reject) => {
    const worker = new Worker(file, { workerData: job });
    let settled = false;
    const cancel = () => worker.postMessage({ type: 'cancel' } satisfies ToWorker);
    if (o.signal?.aborted) cancel();
    o.signal?.addEventListener('abort', cancel, { once: true });
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      o.signal?.removeEventListener('abort', cancel);
      f();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'done') settle(() => resolve(m.result as R));
      else if (m.type === 'failed') settle(() => reject(Object.assign(m.code ? new LabbookError(m.code, m.message) : new Error(m.message), m.stack ? { stack: m.stack } : {})));
      else o.onMessage?.(m);
    });
    const died = (why: string) =>
      settle(() => {
        o.onDied?.();
        reject(new Error(`the training worker stopped: ${why}`));
      });
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
  });
}

export function trainInWorker(store: Store, o: TrainOptions, data: DataSplits, workerDir = __dirname): Promise<TrainResult> {
  const file = path.join(workerDir, WORKER_FILE);
  if (!fs.existsSync(file)) return import('./lib').then(({ train }) => train(store, o, data));
  const { signal, onStarted, onProgress, onEpoch, ...options } = o;
  let runId: string | null = null;
  return runWorker<TrainResult>(file, { kind: 'train', options, data }, {
    signal,
    onMessage: (m) => {
      if (m.type === 'started') {
        runId = m.run.id;
        onStarted?.(m.run, m.engine);
      } else if (m.type === 'progress') onProgress?.(m.progress);
      else if (m.type === 'epoch') onEpoch?.(m.epoch, m.metrics);
    },
    onDied: () => {
      if (!runId) return;
      try {
        if (store.getRun(runId).status === 'running') store.endRun(runId, 'failed', null);
      } catch {
        // the store's recovery marks it on the next start
      }
    },
  });
}

/** `evaluateModel` in a worker (it reads the store itself); in this thread without the worker file. */
export function evaluateInWorker(store: Store, workspace: string, model: string, data: string | undefined, workerDir = __dirname): Promise<Evaluation> {
  const file = path.join(workerDir, WORKER_FILE);
  if (!fs.existsSync(file)) return import('./lib').then(({ evaluateModel }) => evaluateModel(store, model, data));
  return runWorker<Evaluation>(file, { kind: 'evaluate', workspace, model, data });
}

/** Batch `predict` over files in a worker (every file read, decoded and classified there). */
export function predictInWorker(store: Store, workspace: string, model: string, inputs: string[], options: PredictOptions, workerDir = __dirname): Promise<{ model: string; predictions: Prediction[] }> {
  const file = path.join(workerDir, WORKER_FILE);
  if (!fs.existsSync(file)) return import('./lib').then(({ predict }) => predict(store, model, inputs, options));
  return runWorker(file, { kind: 'predict', workspace, model, inputs, options });
}
