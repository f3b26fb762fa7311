/** Training jobs through the real server bundle over JSON-RPC: queue, progress, cancel, models, prediction. */
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as zlib from 'zlib';
import { describe, it } from 'node:test';
import { ResponseError } from 'vscode-jsonrpc/node';
import { LiveRunRequest, ShowRunRequest } from '../../server/protocol/requests';
import {
  ListModelsRequest,
  PredictRequest,
  TrainCancelRequest,
  TrainEndedNotification,
  type TrainEndedParams,
  TrainJobsRequest,
  TrainProgressNotification,
  type TrainProgressParams,
  TrainStartRequest,
} from '../../server/protocol/training';
import { DIGITS_CSV, startServer, tempWorkspace } from './helpers';

/** The server with what it reports of training jobs collected. */
async function startTrainingServer(workspace: string, trusted = true) {
  const { conn, stop } = await startServer(workspace, { trusted, watchIntervalMs: 100 });
  const progress: TrainProgressParams[] = [];
  const ended: TrainEndedParams[] = [];
  const waiters: Array<() => void> = [];
  conn.onNotification(TrainProgressNotification, (p) => {
    progress.push(p);
    for (const w of waiters.splice(0)) w();
  });
  conn.onNotification(TrainEndedNotification, (p) => {
    ended.push(p);
    for (const w of waiters.splice(0)) w();
  });
  const until = async (cond: () => boolean) => {
    while (!cond()) await new Promise<void>((r) => waiters.push(r));
  };
  return { conn, progress, ended, until, stop };
}

describe('training jobs in the server', { skip: !fs.existsSync(DIGITS_CSV) && 'no digits.csv.gz' }, () => {
  it('queues jobs one at a time, reports progress per batch and epoch, cancels within a batch, serves models and predictions', async () => {
    const ws = tempWorkspace();
    const s = await startTrainingServer(ws);
    const a = await s.conn.sendRequest(TrainStartRequest, { data: DIGITS_CSV, model: 'mlp', epochs: 15, name: 'digits' });
    const b = await s.conn.sendRequest(TrainStartRequest, { data: DIGITS_CSV, model: 'mlp', epochs: 2000, name: 'long' });
    assert.deepEqual([a.position, b.position], [0, 1]);
    const jobs = await s.conn.sendRequest(TrainJobsRequest);
    assert.deepEqual(jobs.map((j) => j.state), ['running', 'queued']);
    await s.until(() => s.ended.length === 1);
    const first = s.ended[0];
    assert.equal(first.status, 'finished', first.error);
    assert.equal(first.model, 'digits@1');
    assert.equal(first.backend, 'wasm');
    const mine = s.progress.filter((p) => p.jobId === a.jobId);
    assert.ok(mine.some((p) => p.batch > 0 && p.samplesPerS > 0), 'batch progress');
    assert.deepEqual(mine.filter((p) => p.epochMetrics).map((p) => p.epoch), Array.from({ length: 15 }, (_, i) => i + 1));

    // The second job starts only after the first; the Live view sees it as active and cancellable.
    await s.until(() => s.progress.some((p) => p.jobId === b.jobId && p.epochMetrics));
    const runId = s.progress.find((p) => p.jobId === b.jobId)!.runId;
    const live = await s.conn.sendRequest(LiveRunRequest, { id: runId });
    assert.equal(live.cancellable, true, JSON.stringify({ ...live, series: undefined, points: undefined }).slice(0, 600));
    assert.equal(live.backend, 'wasm');
    assert.equal(await s.conn.sendRequest(TrainCancelRequest, { jobId: b.jobId }), true);
    await s.until(() => s.ended.length === 2);
    assert.equal(s.ended[1].status, 'cancelled');
    const run = await s.conn.sendRequest(ShowRunRequest, { id: runId });
    assert.equal((run as { status: string }).status, 'failed');
    assert.ok((run as { tags: string[] }).tags.includes('cancelled'));

    const models = await s.conn.sendRequest(ListModelsRequest);
    assert.deepEqual(models.map((m) => `${m.name}@${m.version}`), ['digits@1']);
    const row = zlib.gunzipSync(fs.readFileSync(DIGITS_CSV)).toString().split('\n')[0].split(',').map(Number);
    const p = await s.conn.sendRequest(PredictRequest, { model: 'digits', values: row.slice(0, 64), probabilities: true });
    assert.equal(p.class, String(row[64]));
    assert.equal(p.probabilities!.length, 10);
    await assert.rejects(s.conn.sendRequest(PredictRequest, { model: 'digits', values: [1, 2] }), (e: unknown) => e instanceof ResponseError && /takes 64 numbers \(got 2\)/.test(e.message));
    await s.stop();
  });

  it('refuses bad data when the job is queued, recording nothing', async () => {
    const ws = tempWorkspace();
    fs.writeFileSync(`${ws}/bad.csv`, '1,2,0\n1,two,1\n');
    const s = await startTrainingServer(ws);
    await assert.rejects(s.conn.sendRequest(TrainStartRequest, { data: 'bad.csv', model: 'mlp' }), (e: unknown) => e instanceof ResponseError && /line 2, column 2: 'two' is not a number/.test(e.message));
    assert.equal(fs.existsSync(`${ws}/.labbook`), false);
    await s.stop();
    const untrusted = await startTrainingServer(ws, false);
    await assert.rejects(untrusted.conn.sendRequest(TrainStartRequest, { data: DIGITS_CSV, model: 'mlp' }), /untrusted workspace/);
    await untrusted.stop();
  });

  const FASHION = '/usr/share/datasets/fashion-mnist';
  it('trains in a worker thread: the server keeps answering at once while a CNN step takes ~0.3 s', { skip: !fs.existsSync(FASHION) && 'no dataset-fashion-mnist' }, async () => {
    const ws = tempWorkspace();
    fs.writeFileSync(`${ws}/cnn.json`, JSON.stringify({ data: FASHION, model: 'cnn', epochs: 1, batchSize: 64, limit: 1280, name: 'fashion' }));
    const s = await startTrainingServer(ws);
    try {
      const job = await s.conn.sendRequest(TrainStartRequest, { config: 'cnn.json' });
      await s.until(() => s.progress.some((p) => p.jobId === job.jobId && p.batch > 0));
      // In the server's own thread every request would wait for the step in progress.
      const waits: number[] = [];
      for (let i = 0; i < 8; i++) {
        const t0 = performance.now();
        const jobs = await s.conn.sendRequest(TrainJobsRequest);
        waits.push(performance.now() - t0);
        assert.equal(jobs[0]?.state, 'running');
        await new Promise((r) => setTimeout(r, 37));
      }
      assert.ok(Math.max(...waits) < 150, `answers took ${waits.map((w) => Math.round(w)).join(', ')} ms`);
      assert.equal(await s.conn.sendRequest(TrainCancelRequest, { jobId: job.jobId }), true);
      await s.until(() => s.ended.some((e) => e.jobId === job.jobId));
      assert.equal(s.ended.find((e) => e.jobId === job.jobId)!.status, 'cancelled');
    } finally {
      await s.stop();
    }
  });
});
