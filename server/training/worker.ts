/**
 * A training job in a worker thread of the server (bundled as dist/trainWorker.js). A step of the
 * seed CNN keeps a thread busy for ~0.3 s; here it does not hold up the server's answers to the
 * Runs view, diffs or real-time predictions. The worker opens its own connection to the store
 * (the server sees its writes as it sees a CLI run's) and reports back over messages, which
 * `trainInWorker` (workerHost.ts) turns into the callbacks `train` takes.
 */
import { parentPort, workerData } from 'worker_threads';
import { LabbookError } from '../core/errors';
import { Store } from '../store/db';
import type { ToWorker, WorkerJob, FromWorker } from './workerHost';
import { train } from './lib';

const port = parentPort!;
const job = workerData as WorkerJob;
const abort = new AbortController();
const send = (m: FromWorker) => port.postMessage(m);

port.on('message', (m: ToWorker) => {
  if (m.type === 'cancel') abort.abort();
});

void (async () => {
  const store = Store.open(job.options.workspace, { create: true })!;
  try {
    const r = await train(
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
    send({ type: 'done', result: r });
  } catch (e) {
    send({ type: 'failed', code: e instanceof LabbookError ? e.code : null, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
  } finally {
    store.close();
    port.close();
  }
})();
