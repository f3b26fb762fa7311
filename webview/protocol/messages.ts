/** Messages between the webviews and the extension host. Types only: nothing at runtime. */
import type { CompareData, EvaluatedRun, EvaluationDto, LiveData } from '../../server/protocol/views';

export type { CompareData, CompareRun, EvaluatedRun, EvaluationDto, LiveData, MetricDirection } from '../../server/protocol/views';

// ---- Compare (side view and editor tab) ------------------------------------------------------

export interface CompareOptions {
  /** Points per curve drawn after LTTB downsampling (0 = draw every point). */
  chartPoints: number;
  /** Shown in the sidebar (narrow) or an editor tab. */
  where: 'view' | 'editor';
  /** Whether a code-diff command is available (the notebook/run diff feature). */
  canDiffCode: boolean;
}

export type HostToCompare =
  | { type: 'compare/show'; ids: string[]; data: CompareData | null; storeRunCount: number; error?: string; options: CompareOptions }
  /** Partial refresh while compared runs are still running. */
  | { type: 'compare/update'; data: CompareData };

export type CompareToHost =
  | { type: 'compare/ready' }
  | { type: 'compare/openRunsView' }
  | { type: 'compare/openInEditor' }
  | { type: 'compare/rendered'; runIds: string[]; charts: number; points: number; ms: number }
  | { type: 'compare/exportCsv'; name: string; csv: string }
  | { type: 'compare/exportPng'; name: string; dataUrl: string }
  | { type: 'compare/diffCode'; a: string; b: string }
  | { type: 'compare/showRun'; id: string };

// ---- Confusion matrix ------------------------------------------------------------------------

export type HostToConfusion =
  | { type: 'confusion/show'; evaluation: EvaluationDto | null; error?: string; others: EvaluatedRun[] }
  /** The run to diff against (null: none), or why it could not be read. */
  | { type: 'confusion/against'; evaluation: EvaluationDto | null; error?: string };

export type ConfusionToHost =
  | { type: 'confusion/ready' }
  | { type: 'confusion/against'; id: string | null }
  | { type: 'confusion/rendered'; runId: string; epoch: number; mode: string }
  | { type: 'confusion/exportCsv'; name: string; csv: string }
  | { type: 'confusion/exportPng'; name: string; dataUrl: string };

// ---- Live training ---------------------------------------------------------------------------

export type HostToLive =
  /** A fresh start: everything so far. */
  | { type: 'live/reset'; data: LiveData }
  /** New points and the latest status. */
  | { type: 'live/append'; data: LiveData }
  | { type: 'live/error'; message: string };

export type LiveToHost =
  | { type: 'live/ready' }
  | { type: 'live/cancel'; id: string }
  | { type: 'live/rendered'; runId: string; points: number };
