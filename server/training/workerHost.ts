/**
 * Runs `train` in a worker thread (worker.ts, bundled beside the server as trainWorker.js) with
 * the same options and callbacks as calling it directly. Where that file is not there (code run
 * from a test bundle), the job runs in this thread instead. If the worker dies without saying how
 * the job ended, its run is marked failed here, so nothing it recorded is lost or left 'running'.
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
import type { TrainOptions, TrainResult } from './train';

type Plain = Omit<TrainOptions, 'signal' | 'onStarted' | 'onProgress' | 'onEpoch'>;

export interface WorkerJob {
  options: Plain;
  data: DataSplits;
}
export type ToWorker = { type: 'cancel' };
export type FromWorker =
  | { type: 'started'; run: RunSummary; engine: Pick<Engine, 'backend' | 'reason' | 'gpu'> }
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'epoch'; epoch: number; metrics: Record<string, number> }
  | { type: 'done'; result: TrainResult }
  | { type: 'failed'; code: LabbookErrorCode | null; message: string; stack?: string };

export const WORKER_FILE = 'trainWorker.js';

export function trainInWorker(store: Store, o: TrainOptions, data: DataSplits, workerDir = __dirname): Promise<TrainResult> {
  const file = path.join(workerDir, WORKER_FILE);
  if (!fs.existsSync(file)) return import('./lib').then(({ train }) => train(store, o, data));
  const { signal, onStarted, onProgress, onEpoch, ...options } = o;
  return new Promise<TrainResult>((resolve, reject) => {
    const worker = new Worker(file, { workerData: { options, data } satisfies WorkerJob });
    let runId: string | null = null;
    let settled = false;
    const cancel = () => worker.postMessage({ type: 'cancel' } satisfies ToWorker);
    if (signal?.aborted) cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', cancel);
      f();
    };
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'started') {
        runId = m.run.id;
        onStarted?.(m.run, m.engine);
      } else if (m.type === 'progress') onProgress?.(m.progress);
      else if (m.type === 'epoch') onEpoch?.(m.epoch, m.metrics);
      else if (m.type === 'done') settle(() => resolve(m.result));
      else settle(() => reject(Object.assign(m.code ? new LabbookError(m.code, m.message) : new Error(m.message), m.stack ? { stack: m.stack } : {})));
    });
    const died = (why: string) =>
      settle(() => {
        if (runId) {
          try {
            const run = store.getRun(runId);
            if (run?.status === 'running') store.endRun(runId, 'failed', null);
          } catch {
            // the store's recovery marks it on the next start
          }
        }
        reject(new Error(`the training worker stopped: ${why}`));
      });
    worker.on('error', (e) => died(e.message));
    worker.on('exit', (code) => died(`exit code ${code}`));
  });
}
