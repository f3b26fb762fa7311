/**
 * Data the views get from the server: run comparison, evaluations (confusion matrices) and live
 * progress. Plain JSON only, shared by server, extension and webviews (types only).
 */
import type { MetricSeries, RunStatus, RunSummary } from './dto';

/** Whether smaller or larger values of a metric are better. */
export type MetricDirection = 'min' | 'max';

export interface CompareParams {
  /** Run ids, unique id prefixes or names; 1 to 50 of them. */
  ids: string[];
  /** Series longer than this are downsampled (LTTB) on the server; default 10,000. */
  maxPoints?: number;
  /** Metric → direction, overriding the guess from the metric's name. */
  directions?: Record<string, MetricDirection>;
}

export interface CompareMetric {
  key: string;
  last: number | null;
  lastStep: number;
  min: number | null;
  max: number | null;
  /** The best value in the metric's direction. */
  best: number | null;
  bestStep: number | null;
  count: number;
}

export interface CompareRun extends Pick<RunSummary, 'id' | 'name' | 'kind' | 'status' | 'experiment' | 'startedAt' | 'durationS'> {
  tags: string[];
  params: Record<string, string>;
  metrics: CompareMetric[];
  /** Full series, or downsampled when longer than `maxPoints` (then `downsampledFrom` says from how many). */
  series: (MetricSeries & { downsampledFrom?: number })[];
  inputs: { path: string; sha256: string | null; size: number | null }[];
  environment: {
    python: string | null;
    os: string | null;
    gpu: string | null;
    git: string | null;
    packages: Record<string, string>;
  } | null;
  code: { path: string; kind: string; sha256: string }[];
}

export interface CompareData {
  runs: CompareRun[];
  directions: Record<string, MetricDirection>;
}

export interface ClassMetrics {
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
}

export interface EvaluationEpoch {
  epoch: number;
  matrix: number[][];
  perClass: ClassMetrics[];
  accuracy: number | null;
}

/** A small image: grayscale or RGB pixels (0–255, row-major), or a base64 PNG. */
export type Thumbnail = { width: number; height: number; channels: 1 | 3; pixels: number[] } | { png: string };

export interface MisclassifiedExample {
  /** Index of the example in the evaluated data set. */
  index: number;
  /** Class indexes into `labels`. */
  actual: number;
  predicted: number;
  /** The epoch the prediction was made in; null = the last one. */
  epoch: number | null;
  confidence: number | null;
  thumbnail: Thumbnail | null;
}

export interface EvaluationDto {
  runId: string;
  runName: string;
  /** Where it came from: the run's `evaluation.json`, or its `log_confusion_matrix` artifacts. */
  source: 'evaluation.json' | 'confusion-matrix artifacts';
  labels: string[];
  epochs: EvaluationEpoch[];
  examples: MisclassifiedExample[];
  /** Parts of the artifact that were skipped, said plainly. */
  warnings: string[];
}

export interface EvaluatedRun {
  id: string;
  name: string;
  status: RunStatus;
  startedAt: string;
}

export interface LiveParams {
  id: string;
  /** Per metric, the last step the caller already has: only later points come back. */
  since?: Record<string, number>;
}

export interface LiveData {
  run: RunSummary;
  params: Record<string, string>;
  tags: string[];
  /** New points only (after `since`). */
  series: MetricSeries[];
  /** Progress towards the run's declared length (params epochs / total_steps …), when it has one. */
  progress: { unit: 'epoch' | 'step'; done: number; total: number } | null;
  /** Seconds left at the pace so far; null without progress or for a finished run. */
  etaS: number | null;
  /** The last logged throughput (metric samples_per_s, samples/s, throughput …). */
  samplesPerS: number | null;
  /** The compute backend the run recorded (param or tag `backend`). */
  backend: string | null;
  /** Whether this server can stop the run (it started it). */
  cancellable: boolean;
}
