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

export const TrainStartRequest = new RequestType<TrainStartParams, TrainStartResult, LabbookErrorData>('labbook/train/start');
export const TrainCancelRequest = new RequestType<{ jobId: string }, boolean, LabbookErrorData>('labbook/train/cancel');
export const TrainJobsRequest = new RequestType0<TrainJobDto[], LabbookErrorData>('labbook/train/jobs');
export const TrainProgressNotification = new NotificationType<TrainProgressParams>('labbook/train/progress');
export const TrainEndedNotification = new NotificationType<TrainEndedParams>('labbook/train/ended');
export const ListModelsRequest = new RequestType0<ModelDto[], LabbookErrorData>('labbook/models/list');
export const PredictRequest = new RequestType<PredictParams, PredictResult, LabbookErrorData>('labbook/predict');
