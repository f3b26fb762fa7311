/**
 * Every Labbook message between extension and server, declared once with its method name and
 * types. Both sides import these constants; no other file spells a method name.
 * Runtime dependency: vscode-jsonrpc's message-type classes only (no vscode, no node built-ins).
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { DiffParams, DiffViewModel } from './diffDto';
import type { ExecutionDto, RunDetail, RunPage, RunSortKey, RunStatus, RuntimeInfo, SortOrder, StoreInfo } from './dto';

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
