/**
 * Training jobs, the model registry and prediction over JSON-RPC. Runtime dependency:
 * vscode-jsonrpc's message-type classes only.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { LabbookErrorData } from './requests';

export interface TrainStartParams {
  /** A training config file (JSON or YAML); the fields below override it. */
  config?: string;
  data?: string;
  model?: 'mlp' | 'cnn';
  epochs?: number;
  name?: string;
  backend?: 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
}

export interface TrainStartResult {
  jobId: string;
  /** Jobs ahead of this one (0: it starts now). */
  position: number;
}

/** Where a training run is, batch by batch (what the trainer reports). */
export interface TrainProgress {
  runId: string;
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  samplesPerS: number;
}

export interface TrainProgressParams extends TrainProgress {
  jobId: string;
  backend: string;
  /** Metrics of the epoch just finished (loss, accuracy, val_*, test_accuracy, samples_per_s). */
  epochMetrics?: Record<string, number>;
}

export interface TrainEndedParams {
  jobId: string;
  runId: string | null;
  status: 'finished' | 'cancelled' | 'failed';
  /** NAME@VERSION of the registered model. */
  model: string | null;
  testAccuracy: number | null;
  backend: string | null;
  error?: string;
}

export interface TrainJobDto {
  jobId: string;
  runId: string | null;
  state: 'queued' | 'running';
  label: string;
}

export interface ModelDto {
  name: string;
  version: number;
  run: string | null;
  stage: string;
  testAccuracy: number | null;
  path: string;
  createdAt: string;
}

export interface PredictParams {
  /** NAME, NAME@VERSION or NAME@production. */
  model: string;
  /** One example's raw values (e.g. 784 pixels 0–255, 64 digits values 0–16). */
  values: number[];
  probabilities?: boolean;
  minConfidence?: number;
}

export interface PredictResult {
  model: string;
  class: string;
  confidence: number;
  review: boolean;
  probabilities?: number[];
}

/** A registered model: NAME, NAME@VERSION or NAME@production. */
export interface ModelRefParams {
  model: string;
}

export interface EvaluateModelParams extends ModelRefParams {
  /** Data to evaluate on (its test split); default the data and split the model was trained with. */
  data?: string;
}

export interface ClassScoreDto {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface EvaluateModelResult {
  /** NAME@VERSION */
  model: string;
  /** The training run that made the model (its Confusion-matrix view), if it is still recorded. */
  run: string | null;
  /** The data file or folder evaluated on, and whether it is the one the model was trained with. */
  data: string;
  trainingData: boolean;
  examples: number;
  accuracy: number;
  macro: { precision: number; recall: number; f1: number };
  perClass: ClassScoreDto[];
  /** Rows = actual class, columns = predicted. */
  confusion: number[][];
  /** Indices (in the test split) of the examples it got wrong. */
  misclassified: number[];
}

export interface DeployParams {
  /** NAME or NAME@VERSION; default the newest registered model. */
  model?: string;
  /** Test accuracy the model must reach; default the setting labbook.deploy.threshold (0.95). */
  threshold?: number;
  /** Deploy past the gate; recorded as forced. */
  force?: boolean;
}

export interface DeployResult {
  deployed: boolean;
  /** NAME@VERSION of the candidate. */
  model: string;
  /** Why it was (or was not) deployed: the gate's verdict. */
  reason: string;
  forced: boolean;
  /** Deployed because it was named (no gate). */
  chosen: boolean;
  /** The candidate is the production model already (forcing changes nothing). */
  alreadyInProduction: boolean;
}

export interface RollbackResult {
  /** NAME@VERSION in production again. */
  model: string;
  /** NAME@VERSION it replaced. */
  from: string;
}

/** One deployment decision, newest first in the history. */
export interface DeploymentDto {
  model: string;
  deployedAt: string;
  /** The gate let it through (a rollback counts as passed). */
  passed: boolean;
  forced: boolean;
  /** Deployed by name (`deploy --model`), which skips the gate. */
  chosen: boolean;
  rollback: boolean;
  reason: string;
  by: string | null;
}

/** How a deployment came about, as the history shows it: rollback, chosen, forced, deployed (through the gate) or refused. */
export function deploymentOutcome(d: { passed: boolean; forced: boolean; chosen: boolean; rollback: boolean }): string {
  if (d.rollback) return 'rollback';
  if (d.chosen) return 'chosen';
  if (d.forced) return 'forced';
  return d.passed ? 'deployed' : 'refused';
}

export interface PredictFilesParams extends ModelRefParams {
  /** CSV rows, JSON arrays or IDX image files; relative paths are taken from the workspace. */
  inputs: string[];
  /** Below this confidence a prediction is flagged `review` (default 0.8). */
  minConfidence?: number;
  probabilities?: boolean;
}

export interface PredictionDto {
  /** file:row (CSV), file#index (IDX, JSON) */
  input: string;
  class: string;
  confidence: number;
  review: boolean;
  probabilities?: number[];
}

export interface PredictFilesResult {
  model: string;
  minConfidence: number;
  predictions: PredictionDto[];
}

export interface DriftParams extends ModelRefParams {
  /** KS significance level (default 0.01). */
  alpha?: number;
  /** PSI above which the class mix has shifted (default 0.25). */
  psiLimit?: number;
}

export interface DriftResult {
  model: string;
  /** Logged predictions compared with the training profile. */
  predictions: number;
  ks: { statistic: number; pValue: number };
  psi: number;
  drifted: boolean;
  reasons: string[];
}

export const TrainStartRequest = new RequestType<TrainStartParams, TrainStartResult, LabbookErrorData>('labbook/train/start');
export const TrainCancelRequest = new RequestType<{ jobId: string }, boolean, LabbookErrorData>('labbook/train/cancel');
export const TrainJobsRequest = new RequestType0<TrainJobDto[], LabbookErrorData>('labbook/train/jobs');
export const TrainProgressNotification = new NotificationType<TrainProgressParams>('labbook/train/progress');
export const TrainEndedNotification = new NotificationType<TrainEndedParams>('labbook/train/ended');
export const ListModelsRequest = new RequestType0<ModelDto[], LabbookErrorData>('labbook/models/list');
export const PredictRequest = new RequestType<PredictParams, PredictResult, LabbookErrorData>('labbook/predict');
export const EvaluateModelRequest = new RequestType<EvaluateModelParams, EvaluateModelResult, LabbookErrorData>('labbook/models/evaluate');
export const DeployModelRequest = new RequestType<DeployParams, DeployResult, LabbookErrorData>('labbook/models/deploy');
export const RollbackRequest = new RequestType0<RollbackResult, LabbookErrorData>('labbook/models/rollback');
export const DeploymentsRequest = new RequestType0<DeploymentDto[], LabbookErrorData>('labbook/models/deployments');
export const PredictFilesRequest = new RequestType<PredictFilesParams, PredictFilesResult, LabbookErrorData>('labbook/models/predict');
export const DriftRequest = new RequestType<DriftParams, DriftResult, LabbookErrorData>('labbook/models/drift');
