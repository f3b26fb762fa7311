/**
 * The notebook diff as it travels: server → extension (DiffRequest) → diff webview. Types only,
 * no runtime code, so the browser bundle can import them.
 */

export interface Segment {
  op: '=' | '-' | '+';
  text: string;
}

export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
  /** 1-based line numbers on each side (absent on the side the line is not on). */
  a?: number;
  b?: number;
  /** Word-level changes within a changed line paired with its counterpart. */
  words?: Segment[];
}

export interface ImageInfo {
  mime: string;
  bytes: number;
  width?: number;
  height?: number;
  /** Set when the data cannot be read as that image type (bad base64, wrong header). */
  problem?: string;
}

export interface MetadataChange {
  key: string;
  a?: unknown;
  b?: unknown;
}

export type CellOp = 'unchanged' | 'modified' | 'added' | 'removed' | 'moved';
export type CellType = 'code' | 'markdown' | 'raw';

export interface DiffSummary {
  added: number;
  removed: number;
  modified: number;
  moved: number;
  unchanged: number;
}

/** A normalized output: kind (stream:stdout, error, display_data …) and MIME type → content. */
export interface ViewOutput {
  kind: string;
  data: Record<string, string>;
  /** Set when large text was cut for display (the diff itself saw all of it). */
  truncated?: boolean;
}

/** One MIME type of one output that differs. */
export interface ViewMimeChange {
  mime: string;
  op: 'added' | 'removed' | 'modified';
  lines?: DiffLine[];
  omitted?: number;
  image?: { a?: ImageInfo; b?: ImageInfo };
}

/** An output that was added, removed or changed; `M` is how a changed MIME type is described. */
export interface OutputChangeOf<M> {
  op: 'added' | 'removed' | 'modified';
  /** Index into each side's normalized outputs. */
  a: number | null;
  b: number | null;
  /** stream:stdout, stream:stderr, error, display_data, execute_result … */
  kind: string;
  /** For modified outputs: the MIME types that differ (first the one a reader looks at). */
  mimes?: M[];
}

export type ViewOutputChange = OutputChangeOf<ViewMimeChange>;

/** A cell on one or both sides, with what differs flagged on its own (whatever the options). */
export interface CellChange {
  op: CellOp;
  a: number | null;
  b: number | null;
  type: CellType;
  sourceChanged: boolean;
  outputsChanged: boolean;
  metadataChanged: boolean;
  execCountChanged: boolean;
  typeChanged?: { a: CellType; b: CellType };
  metadata?: MetadataChange[];
  executionCount?: { a: number | null; b: number | null };
}

/** One row of the diff view. */
export interface ViewCell extends CellChange {
  /** Source of each side present (both, for matched cells). */
  sourceA?: string;
  sourceB?: string;
  /** Line diff of the sources, when they differ. */
  lines?: DiffLine[];
  /** Outputs of each side present, for display. */
  outputsA?: ViewOutput[];
  outputsB?: ViewOutput[];
  /** Set when outputs were left out of the payload (large outputs of an unchanged cell). */
  outputsElided?: boolean;
  outputChanges?: ViewOutputChange[];
}

export interface ViewNotebookDiff {
  summary: DiffSummary;
  cells: ViewCell[];
  notebookMetadata: MetadataChange[];
  warnings: string[];
}

/** What the diff webview shows: one notebook pair, or two runs' code. */
export interface DiffViewModel {
  title: string;
  labels: { a: string; b: string };
  /** The notebook pair (file, git revision), or each notebook of two runs. */
  notebooks: { path?: string; pathB?: string; op?: string; diff: ViewNotebookDiff }[];
  /** Runs only: other code files (scripts, modules, configs, the uncommitted git diff). */
  files?: { path: string; pathB?: string; kind: string; op: string; lines?: DiffLine[]; omitted?: number; problem?: string }[];
  /** Runs only: parameters and final metrics side by side. */
  runs?: {
    a: { id: string; name: string };
    b: { id: string; name: string };
    params: { key: string; a: string | null; b: string | null }[];
    identicalParams: number;
    metrics: { key: string; a: number | null; b: number | null }[];
  };
}

/** What the extension asks the server to diff. */
export type DiffSideSpec = { kind: 'file'; path: string } | { kind: 'git'; rev: string; path: string } | { kind: 'run'; run: string };

export interface DiffParams {
  a: DiffSideSpec;
  b: DiffSideSpec;
}
