/**
 * Training jobs in the server: a queue (one job at a time — one device), each job a tracked run
 * whose progress and end go to the client as notifications, cancellable within one batch.
 * A job's config and data are checked when it is queued, so bad input is refused at once and
 * records nothing.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError, describeError } from '../core/errors';
import type { StoreHandle } from '../core/storeHandle';
import type { Store } from '../store/db';
import type {
  DeployParams,
  DeployResult,
  DeploymentDto,
  DriftParams,
  DriftResult,
  EvaluateModelParams,
  EvaluateModelResult,
  ModelDto,
  PredictFilesParams,
  PredictFilesResult,
  PredictParams,
  PredictResult,
  RollbackResult,
  TrainEndedParams,
  TrainJobDto,
  TrainProgressParams,
  TrainStartParams,
  TrainStartResult,
} from '../protocol/training';
import { readConfigFile, resolveConfig, type TrainConfig } from '../training/config';
import { type DataSplits, loadTrainingData } from '../training/data';
import { findModel } from '../training/registry';
import { evaluateInWorker, predictInWorker, trainInWorker } from '../training/workerHost';

// Evaluation, deployment, prediction and drift live with TensorFlow.js in dist/training.js: loaded
// by the first request that needs them.
const lib = () => import('../training/lib');

export interface TrainingEvents {
  progress(p: TrainProgressParams): void;
  ended(p: TrainEndedParams): void;
  /** A run was created or changed (for the Runs view). */
  changed(): void;
  log(message: string): void;
}

interface Job {
  jobId: string;
  config: TrainConfig;
  configFile?: string;
  /** The checked data until the job starts. */
  data: DataSplits | null;
  abort: AbortController;
  runId: string | null;
  label: string;
}

export class TrainingJobs {
  private readonly queue: Job[] = [];
  private current: Job | null = null;
  private idle: Promise<void> = Promise.resolve();

  constructor(
    private readonly handle: StoreHandle,
    private readonly trusted: () => boolean,
    private readonly events: TrainingEvents,
  ) {}

  start(p: TrainStartParams): TrainStartResult {
    this.requireTrust('train');
    const workspace = this.handle.workspace;
    if (!workspace) throw new LabbookError('NO_STORE', 'Open a folder first: Labbook keeps its runs and models in the workspace.');
    const abs = (f: string) => path.resolve(workspace, f);
    const configFile = p.config ? abs(p.config) : undefined;
    const cli = { data: p.data ? abs(p.data) : undefined, model: p.model, epochs: p.epochs, name: p.name, backend: p.backend };
    const config = resolveConfig([...(configFile ? [{ source: configFile, values: readConfigFile(configFile) }] : []), { source: 'request', values: cli }]);
    const data = loadTrainingData(config);
    const job: Job = { jobId: crypto.randomBytes(4).toString('hex'), config, configFile, data, abort: new AbortController(), runId: null, label: `${config.model} on ${path.basename(config.data)}` };
    this.queue.push(job);
    const position = this.queue.length - 1 + (this.current ? 1 : 0);
    this.idle = this.idle.then(() => this.run(job));
    return { jobId: job.jobId, position };
  }

  private async run(job: Job): Promise<void> {
    this.queue.splice(this.queue.indexOf(job), 1);
    if (job.abort.signal.aborted) {
      this.events.ended({ jobId: job.jobId, runId: null, status: 'cancelled', model: null, testAccuracy: null, backend: null });
      return;
    }
    this.current = job;
    let backend: string | null = null;
    try {
      const store = this.handle.getOrCreate();
      const data = job.data;
      // The worker has its own copy now; the queue need not hold the examples any longer.
      job.data = null;
      const r = await trainInWorker(
        store,
        {
          workspace: this.handle.workspace!,
          config: job.config,
          configFile: job.configFile,
          command: `VS Code: Train Model (${job.label})`,
          signal: job.abort.signal,
          onStarted: (run, engine) => {
            job.runId = run.id;
            backend = engine.backend;
            this.events.log(`training job ${job.jobId}: run ${run.id} on ${engine.backend} (${engine.reason})`);
            this.events.changed();
          },
          onProgress: (pr) => this.events.progress({ jobId: job.jobId, ...pr, backend: backend ?? '' }),
          onEpoch: (epoch, m) => {
            this.events.progress({ jobId: job.jobId, runId: job.runId!, epoch, epochs: job.config.epochs, batch: 0, batches: 0, loss: m.loss, accuracy: m.accuracy, samplesPerS: m.samples_per_s, backend: backend ?? '', epochMetrics: m });
            this.events.changed();
          },
        },
        data!,
      );
      this.events.ended({ jobId: job.jobId, runId: r.run, status: r.status, model: r.model, testAccuracy: r.test.accuracy, backend: r.backend });
    } catch (e) {
      this.events.log(`training job ${job.jobId}: ${describeError(e)}\n${(e as Error)?.stack ?? ''}`);
      this.events.ended({ jobId: job.jobId, runId: job.runId, status: 'failed', model: null, testAccuracy: null, backend, error: describeError(e) });
    } finally {
      this.current = null;
      this.events.changed();
    }
  }

  jobs(): TrainJobDto[] {
    return [...(this.current ? [{ jobId: this.current.jobId, runId: this.current.runId, state: 'running' as const, label: this.current.label }] : []), ...this.queue.map((j) => ({ jobId: j.jobId, runId: null, state: 'queued' as const, label: j.label }))];
  }

  /** Cancels a queued or running job (by job id or run id); false when there is no such job. */
  cancel(id: string): boolean {
    const job = [this.current, ...this.queue].find((j) => j && (j.jobId === id || j.runId === id));
    job?.abort.abort();
    return !!job;
  }

  isActive(runId: string): boolean {
    return this.current?.runId === runId;
  }

  /** Stops everything and waits (up to `ms`) for the running job to record how it ended. */
  async cancelAll(ms: number): Promise<void> {
    for (const j of [this.current, ...this.queue]) j?.abort.abort();
    await Promise.race([this.idle, new Promise((r) => setTimeout(r, ms))]);
  }

  models(): ModelDto[] {
    const store = this.handle.get();
    return (store?.listModels() ?? []).map((m) => ({ name: m.name, version: m.version, run: m.run, stage: m.stage, testAccuracy: m.metrics.test_accuracy ?? null, path: m.path, createdAt: m.createdAt }));
  }

  async predict(p: PredictParams): Promise<PredictResult> {
    this.requireTrust('predict');
    const { predictValues } = await lib();
    const { input: _input, classIndex: _ci, ...r } = await predictValues(this.modelStore(), p.model, p.values, { minConfidence: p.minConfidence ?? 0.8, probabilities: p.probabilities });
    return r;
  }

  async evaluate(p: EvaluateModelParams): Promise<EvaluateModelResult> {
    this.requireTrust('evaluate');
    const store = this.modelStore();
    const record = findModel(store, p.model);
    const trainedOn = readCardData(store, record.path);
    const data = p.data ? path.resolve(this.handle.workspace!, p.data) : trainedOn;
    // In the worker thread: scoring a CNN on a full test split takes seconds.
    const e = await evaluateInWorker(store, this.handle.workspace!, p.model, data);
    return {
      model: e.model,
      run: record.run,
      data: data ?? '',
      trainingData: !!trainedOn && data === trainedOn,
      examples: e.examples,
      accuracy: e.accuracy,
      macro: e.macro,
      perClass: e.perClass,
      confusion: e.confusion,
      misclassified: e.misclassified,
    };
  }

  async deploy(p: DeployParams): Promise<DeployResult> {
    this.requireTrust('deploy');
    const store = this.modelStore();
    const threshold = p.threshold ?? Number(process.env.LABBOOK_DEPLOY_THRESHOLD ?? 0.95);
    if (!(threshold >= 0 && threshold <= 1)) throw new LabbookError('BAD_ARGUMENT', `the deploy threshold must be a number from 0 to 1 (got ${p.threshold})`);
    const before = store.deployments()[0]?.id;
    const { deploy } = await lib();
    const r = deploy(store, { model: p.model, threshold, force: p.force });
    // A candidate already in production records no new decision.
    const alreadyInProduction = store.deployments()[0]?.id === before;
    return { deployed: r.deployed, model: r.model, reason: r.reason, forced: !alreadyInProduction && !!r.record?.forced, chosen: !alreadyInProduction && !!r.record?.chosen, alreadyInProduction };
  }

  async rollback(): Promise<RollbackResult> {
    this.requireTrust('roll back');
    const { rollback } = await lib();
    return rollback(this.modelStore());
  }

  deployments(): DeploymentDto[] {
    const store = this.handle.get();
    return (store?.deployments() ?? []).map((d) => ({
      model: d.model,
      deployedAt: d.deployedAt,
      passed: d.passed,
      forced: d.forced,
      chosen: d.chosen,
      rollback: d.gate.rollback === true,
      reason: typeof d.gate.reason === 'string' ? d.gate.reason : '',
      by: d.by,
    }));
  }

  async predictFiles(p: PredictFilesParams): Promise<PredictFilesResult> {
    this.requireTrust('predict');
    const store = this.modelStore();
    if (!Array.isArray(p.inputs) || p.inputs.length === 0) throw new LabbookError('BAD_ARGUMENT', 'give at least one input file (CSV rows, JSON arrays, IDX images)');
    const minConfidence = p.minConfidence ?? 0.8;
    if (!(minConfidence >= 0 && minConfidence <= 1)) throw new LabbookError('BAD_ARGUMENT', `the minimum confidence must be a number from 0 to 1 (got ${p.minConfidence})`);
    const r = await predictInWorker(store, this.handle.workspace!, p.model, p.inputs.map((f) => path.resolve(this.handle.workspace!, f)), { minConfidence, probabilities: p.probabilities });
    return { model: r.model, minConfidence, predictions: r.predictions.map(({ classIndex: _ci, ...rest }) => rest) };
  }

  async drift(p: DriftParams): Promise<DriftResult> {
    const { drift } = await lib();
    return drift(this.modelStore(), p.model, { alpha: p.alpha, psiLimit: p.psiLimit });
  }

  /** The store, for requests about registered models (which need one). */
  private modelStore(): Store {
    const store = this.handle.get();
    if (!store) throw new LabbookError('NO_STORE', 'This workspace has no Labbook store, so no models. Train one with "Labbook: Train Model…".');
    return store;
  }

  /**
   * Training, evaluation and prediction load workspace data and models into the server, and
   * deployments write the store: none of it in a workspace the user has not trusted (drift and
   * the registry listing only read what is recorded).
   */
  private requireTrust(what: string): void {
    if (!this.trusted()) throw new LabbookError('BAD_ARGUMENT', `Labbook does not ${what} in an untrusted workspace. Trust this folder to ${what === 'train' ? 'train models' : `${what} models`}.`);
  }
}

/** The data a registered model was trained on, from its model card (undefined if it names none). */
function readCardData(store: Store, modelPath: string): string | undefined {
  try {
    const card = JSON.parse(fs.readFileSync(path.resolve(path.dirname(store.paths.dir), modelPath, 'card.json'), 'utf8')) as { params?: { data?: unknown } };
    return typeof card.params?.data === 'string' ? card.params.data : undefined;
  } catch {
    // evaluateModel says what is wrong with the folder.
    return undefined;
  }
}
