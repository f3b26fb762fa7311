/**
 * Every Labbook message between extension and server, declared once with its method name and
 * types. Both sides import these constants; no other file spells a method name.
 * Runtime dependency: vscode-jsonrpc's message-type classes only (no vscode, no node built-ins).
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { DiffParams, DiffViewModel } from './diffDto';
import type { ExecutionDto, RunDetail, RunPage, RunSortKey, RunStatus, RuntimeInfo, SortOrder, StoreInfo } from './dto';
import type { CompareData, CompareParams, EvaluatedRun, EvaluationDto, LiveData, LiveParams } from './views';
import type { RunJson } from '../core/runJson';

export interface ServerInfo {
  store: StoreInfo;
  runtime: RuntimeInfo;
}

export interface ListRunsParams {
  offset?: number;
  limit?: number;
  sort?: RunSortKey;
  order?: SortOrder;
  status?: RunStatus;
  /** Only top-level runs (no parent) when true; the default. */
  topLevel?: boolean;
  /** Terms that must all match: `status:S`, `kind:K`, `tag:T`, `experiment:E`, `KEY=VALUE`, or text in name/experiment/tag/id. */
  search?: string;
  /** Also return each run's key metric, source file and tags: this metric, or '' for the first of accuracy/loss-like names. */
  keyMetric?: string;
}

export interface GetRunParams {
  /** A run id, a unique id prefix, or a run name (the newest run with that name). */
  id: string;
}

export interface RunsChangedParams {
  /** Why the server thinks runs changed: another process wrote, or the store appeared. */
  reason: 'external-write' | 'store-created' | 'recovered';
}

/** Error codes in ResponseError.data.code mirror LabbookErrorCode. */
export interface LabbookErrorData {
  code: string;
}

export const ServerInfoRequest = new RequestType0<ServerInfo, LabbookErrorData>('labbook/server/info');
export const ListRunsRequest = new RequestType<ListRunsParams, RunPage, LabbookErrorData>('labbook/runs/list');
export const GetRunRequest = new RequestType<GetRunParams, RunDetail, LabbookErrorData>('labbook/runs/get');
export const RunsChangedNotification = new NotificationType<RunsChangedParams>('labbook/runs/changed');
/** A notebook diff (files, git revisions) or two runs' code, shaped for the diff view. */
export const DiffRequest = new RequestType<DiffParams, DiffViewModel, LabbookErrorData>('labbook/diff');

export interface StartRunParams {
  kind: 'script' | 'notebook' | 'rerun';
  /** Absolute path of the script or notebook; for 'rerun', the id of the run to re-create. */
  target: string;
  /** The script's own arguments (scripts only). */
  args?: string[];
  /** `-p` overrides: replace/append `--k v` for scripts, injected after the parameters cell for notebooks. */
  overrides?: Record<string, string>;
  name?: string;
  /** The interpreter (the extension resolves labbook.python.path / the Python extension's choice); a rerun uses the original's unless given. */
  python?: string;
  /** Globs (workspace-relative) of data files to hash as declared inputs. */
  data?: string[];
}

export interface StartRunResult {
  runId: string;
  name: string;
}

export interface RunOutputParams {
  runId: string;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface RunEndedParams {
  runId: string;
  name: string;
  status: RunStatus;
  exitCode: number | null;
  durationS: number;
  warnings: string[];
  /** Set when the run could not start or the tracking itself failed. */
  error?: string;
  /** For reruns: what changed since the original and whether the results match. */
  verdict?: {
    original: string;
    reproduced: boolean;
    dataChanged: { path: string; before: string | null; after: string | null }[];
    codeChanged: { path: string; before: string | null; after: string | null }[];
    differences: { metric: string; before: number | null; after: number | null }[];
  };
}

export const StartRunRequest = new RequestType<StartRunParams, StartRunResult, LabbookErrorData>('labbook/run/start');
export const CancelRunRequest = new RequestType<{ runId: string }, boolean, LabbookErrorData>('labbook/run/cancel');
export const RunOutputNotification = new NotificationType<RunOutputParams>('labbook/run/output');
export const RunEndedNotification = new NotificationType<RunEndedParams>('labbook/run/ended');
/** The user trusted the workspace after the server started: running code is allowed from now on. */
export const WorkspaceTrustedNotification = new NotificationType<Record<string, never>>('labbook/workspace/trusted');

export interface CellExecutedParams {
  /** Absolute path of the .ipynb. */
  notebook: string;
  execution: Omit<ExecutionDto, 'seq'>;
}

export interface NotebookParams {
  notebook: string;
}

export interface CheckCellsParams {
  notebook: string;
  cells: CodeCellStateDto[];
  /** Interpreter whose ast reads the cells (names analysis); python3 when absent. */
  python?: string;
}

export interface CodeCellStateDto {
  index: number;
  source: string;
  executionCount: number | null;
  editedSinceRun?: boolean;
}

export interface HiddenStateProblem {
  cell: number;
  kind: string;
  message: string;
}

/** Records one finished cell execution in the notebook's session run (created on first use). */
export const CellExecutedRequest = new RequestType<CellExecutedParams, { runId: string }, LabbookErrorData>('labbook/session/executed');
/** Keeps the notebook as saved on disk now in its session run (code + a snapshot artifact). */
export const SaveSnapshotRequest = new RequestType<NotebookParams, { runId: string; artifact: string }, LabbookErrorData>('labbook/session/snapshot');
/** The notebook was closed: its session run ends. */
export const EndSessionRequest = new RequestType<NotebookParams, { runId: string | null }, LabbookErrorData>('labbook/session/end');
/** Hidden-state analysis of a live notebook; tags its session run `hidden-state` when it finds any. */
export const CheckCellsRequest = new RequestType<CheckCellsParams, { problems: HiddenStateProblem[]; warnings: string[] }, LabbookErrorData>('labbook/notebook/check');

/** Options the extension passes in `initialize`. */
export interface LabbookInitializationOptions {
  workspace: string | null;
  /** VS Code's Workspace Trust: an untrusted workspace never runs user code. */
  trusted?: boolean;
  /** Milliseconds between checks for writes by other processes (CLI runs). */
  watchIntervalMs?: number;
}

// ---- views (Runs tree edits, Compare, Confusion matrix, Live training) ---------------------

export const CompareRunsRequest = new RequestType<CompareParams, CompareData, LabbookErrorData>('labbook/runs/compare');
/** `labbook show RUN --json`'s document. */
export const ShowRunRequest = new RequestType<GetRunParams, RunJson, LabbookErrorData>('labbook/runs/show');
/** Adds and removes tags; answers the run's tags after. */
export const TagRunRequest = new RequestType<{ id: string; add?: string[]; remove?: string[] }, string[], LabbookErrorData>('labbook/runs/tag');
/** Deletes a run (not a running one); its child runs are kept as top-level runs. */
export const DeleteRunRequest = new RequestType<GetRunParams, { id: string; name: string; keptChildren: string[] }, LabbookErrorData>('labbook/runs/delete');
export const EvaluationRequest = new RequestType<GetRunParams, EvaluationDto, LabbookErrorData>('labbook/runs/evaluation');
export const EvaluatedRunsRequest = new RequestType0<EvaluatedRun[], LabbookErrorData>('labbook/runs/evaluated');
export const LiveRunRequest = new RequestType<LiveParams, LiveData, LabbookErrorData>('labbook/runs/live');
/** A step as planned in the preview: a name and the notebook cells (indices) it takes. */
export interface ExtractPlanStep {
  name: string;
  cells: number[];
}

export interface ExtractPreviewParams {
  /** Absolute path of the .ipynb. */
  notebook: string;
  /** The interpreter that analyses the cells (the user's). */
  python?: string;
  split?: 'headings' | 'tags' | 'cells';
  /** Steps as the user arranged them; overrides `split`. */
  plan?: ExtractPlanStep[];
  /** Where the files would go: the preview says which of them already exist there. */
  outDir?: string;
}

export interface ExtractStepDto {
  name: string;
  cells: number[];
  cellIds: (string | null)[];
  inputs: string[];
  outputs: string[];
  params: string[];
}

export interface ExtractPreviewResult {
  steps: ExtractStepDto[];
  params: Record<string, unknown>;
  warnings: string[];
  notes: string[];
  /** Code cells with code for a step: index and first line, for splitting a step. */
  cells: { index: number; firstLine: string }[];
  /** Files in outDir the write would replace. */
  existing: string[];
}

export interface ExtractWriteParams extends ExtractPreviewParams {
  outDir: string;
  /** Replace files already in outDir. */
  force?: boolean;
}

export interface ExtractWriteResult {
  outDir: string;
  files: string[];
}

/** Analyses a notebook and proposes (or checks) its steps; writes nothing. */
export const ExtractPreviewRequest = new RequestType<ExtractPreviewParams, ExtractPreviewResult, LabbookErrorData>('labbook/extract/preview');
/** Writes the pipeline; error OUTPUT_EXISTS when files would be replaced without `force`. */
export const ExtractWriteRequest = new RequestType<ExtractWriteParams, ExtractWriteResult, LabbookErrorData>('labbook/extract/write');

export interface ExtractVerifyResult {
  ok: boolean;
  notebookOk: boolean;
  pipelineOk: boolean;
  pipelineRun: string;
  notebookRun: string;
  steps: { name: string; ok: boolean; detail: string }[];
}

/** Runs the written pipeline and the notebook (both tracked) and compares them step by step. */
export const ExtractVerifyRequest = new RequestType<ExtractPreviewParams & { outDir: string }, ExtractVerifyResult, LabbookErrorData>('labbook/extract/verify');
