/**
 * The server's worker thread for TensorFlow.js work (bundled as dist/trainWorker.js): a training
 * job, an evaluation or a batch prediction. A step of the seed CNN keeps a thread busy for ~0.3 s
 * and scoring 10,000 images for seconds; here none of it holds up the server's answers to the
 * Runs view, diffs or real-time predictions. The worker opens its own connection to the store (the server sees its
 * writes as it sees a CLI run's) and reports back over messages, which workerHost.ts turns into
 * the callbacks `train` takes.
 */
import { parentPort, workerData } from 'worker_threads';
import { LabbookError } from '../core/errors';
import { Store } from '../store/db';
import { evaluateModel, predict, train } from './lib';
import type { FromWorker, ToWorker, WorkerJob } from './workerHost';

const port = parentPort!;
const job = workerData as WorkerJob;
const abort = new AbortController();
const send = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') abort.abort();
});

async function run(store: Store): Promise<unknown> {
  if (job.kind === 'evaluate') return evaluateModel(store, job.model, job.data);
  if (job.kind === 'predict') return predict(store, job.model, job.inputs, job.options);
  return train(
    store,
    {
      ...job.options,
      signal: abort.signal,
      onStarted: (run, engine) => send({ type: 'started', run, engine: { backend: engine.backend, reason: engine.reason, gpu: engine.gpu } }),
      onProgress: (progress) => send({ type: 'progress', progress }),
      onEpoch: (epoch, metrics) => send({ type: 'epoch', epoch, metrics }),
    },
    job.data,
  );
}

void (async () => {
  const workspace = job.kind === 'train' ? job.options.workspace : job.workspace;
  let store: Store | null = null;
  try {
    store = Store.open(workspace, { create: job.kind === 'train' });
    if (!store) throw new LabbookError('NO_STORE', `${workspace} has no Labbook store`);
    send({ type: 'done', result: await run(store) });
  } catch (e) {
    send({ type: 'failed', code: e instanceof LabbookError ? e.code : null, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
  } finally {
    store?.close();
    port.close();
  }
})();
