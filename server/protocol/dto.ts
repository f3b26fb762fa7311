/**
 * Data shapes shared by the server, the extension, the CLI's --json output and webviews.
 * Plain JSON only: no classes, no Dates (timestamps are ISO-8601 strings).
 */

export const RUN_KINDS = ['script', 'notebook', 'training', 'pipeline', 'step', 'session'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const RUN_STATUSES = ['running', 'finished', 'failed', 'crashed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const PARAM_SOURCES = ['cli', 'config', 'notebook-parameters', 'injected', 'logged', 'override'] as const;
export type ParamSource = (typeof PARAM_SOURCES)[number];

export const RUN_SORT_KEYS = ['started', 'name', 'status', 'duration'] as const;
export type RunSortKey = (typeof RUN_SORT_KEYS)[number];
export type SortOrder = 'asc' | 'desc';

export interface RunSummary {
  id: string;
  name: string;
  kind: RunKind;
  status: RunStatus;
  experiment: string | null;
  startedAt: string;
  endedAt: string | null;
  /** Wall-clock seconds; for a running run, up to now. */
  durationS: number;
  exitCode: number | null;
  parentId: string | null;
  command: string | null;
  /** Only when the list asked for it (`keyMetric`): the run's key metric, last value. */
  keyMetric?: { key: string; value: number | null; step: number } | null;
  /** Only with `keyMetric`: the script or notebook the run ran (workspace-relative), if recorded. */
  source?: string | null;
  /** Only with `keyMetric`. */
  tags?: string[];
  /** Only with `keyMetric`: it carries an evaluation (confusion matrices) the Confusion-matrix view can show. */
  evaluated?: boolean;
}

export interface ParamDto {
  key: string;
  value: string;
  source: ParamSource;
}

export interface MetricSummary {
  key: string;
  last: number | null;
  lastStep: number;
  min: number | null;
  max: number | null;
  count: number;
}

export interface MetricSeries {
  key: string;
  steps: number[];
  values: (number | null)[];
  /** Milliseconds since the epoch. */
  wallTimes: number[];
}

export interface InputDto {
  /** Relative to the workspace when inside it. */
  path: string;
  size: number | null;
  mtime: string | null;
  /** Null when the file could not be hashed (it vanished, or could not be read): see error. */
  sha256: string | null;
  declared: boolean;
  error: string | null;
}

export interface EnvironmentDto {
  python: string | null;
  pythonVersion: string | null;
  packagesBlob: string | null;
  os: string | null;
  cpu: string | null;
  memoryBytes: number | null;
  gpu: string | null;
  gitCommit: string | null;
  gitBranch: string | null;
  gitDirty: boolean | null;
  gitDiffBlob: string | null;
  labbookVersion: string | null;
  extra: Record<string, unknown>;
}

export interface CodeDto {
  path: string;
  kind: 'script' | 'module' | 'notebook' | 'diff' | 'config';
  blob: string;
}

/** One cell execution in VS Code's notebook editor, recorded in a session run. */
export interface ExecutionDto {
  seq: number;
  cellId: string | null;
  cellIndex: number;
  sourceSha256: string;
  executionCount: number | null;
  success: boolean | null;
  /** Milliseconds since the epoch. */
  startedAt: number | null;
  durationMs: number | null;
}

export interface ArtifactDto {
  path: string;
  blob: string | null;
  size: number | null;
  kind: string;
}

export interface RunDetail extends RunSummary {
  tags: string[];
  cwd: string | null;
  host: string | null;
  pid: number | null;
  note: string | null;
  params: ParamDto[];
  metrics: MetricSummary[];
  inputs: InputDto[];
  environment: EnvironmentDto | null;
  code: CodeDto[];
  artifacts: ArtifactDto[];
  children: RunSummary[];
}

export interface RunPage {
  runs: RunSummary[];
  total: number;
  offset: number;
}

export interface StoreInfo {
  workspace: string;
  storePath: string;
  exists: boolean;
  schemaVersion: number | null;
  runCount: number;
  sizeBytes: number;
  /** Why the store cannot be used, when it exists but is refused. */
  problem: string | null;
}

export interface RuntimeInfo {
  node: string;
  abi: string;
  execPath: string;
  pid: number;
  serverVersion: string;
}
