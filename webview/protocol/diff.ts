/** Messages between the notebook diff webview and the extension host. Types only. */
import type { DiffParams, DiffViewModel } from '../../server/protocol/diffDto';

export type { DiffParams, DiffViewModel };

/** What the page keeps with setState (and the panel serializer gets back after a reload). */
export interface DiffViewState {
  params: DiffParams;
  layout: 'side' | 'inline';
  outputs: boolean;
  metadata: boolean;
  execCounts: boolean;
  /** Index of the change last navigated to. */
  current: number;
  /** Folded runs of unchanged cells the user opened (by the index of their first row). */
  expanded: number[];
}

export type DiffToHost =
  | { type: 'diff/ready' }
  /** Re-compute (files changed on disk). */
  | { type: 'diff/refresh' }
  /** Open a notebook at a cell: side a or b of the diff. */
  | { type: 'diff/reveal'; side: 'a' | 'b'; cell: number; notebook: number };

export type HostToDiff =
  | { type: 'diff/show'; params: DiffParams; model: DiffViewModel }
  | { type: 'diff/error'; params: DiffParams; message: string };
