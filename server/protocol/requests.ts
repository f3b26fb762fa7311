/**
 * Every Labbook message between extension and server, declared once with its method name and
 * types. Both sides import these constants; no other file spells a method name.
 * Runtime dependency: vscode-jsonrpc's message-type classes only (no vscode, no node built-ins).
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type { RunDetail, RunPage, RunSortKey, RunStatus, RuntimeInfo, SortOrder, StoreInfo } from './dto';

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

/** Options the extension passes in `initialize`. */
export interface LabbookInitializationOptions {
  workspace: string | null;
  /** Milliseconds between checks for writes by other processes (CLI runs). */
  watchIntervalMs?: number;
}
