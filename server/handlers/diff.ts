/** The server's side of "Diff Notebook with HEAD", "Diff Two Notebooks" and "Diff Code of Two Runs". */
import * as path from 'path';
import { LabbookError } from '../core/errors';
import type { StoreHandle } from '../core/storeHandle';
import type { DiffParams, DiffSideSpec, DiffViewModel } from '../protocol/diffDto';
import { gitShow, readFileText } from '../notebook/sources';
import { notebookPairView, runsView } from '../notebook/view';

export function diffView(handle: StoreHandle, p: DiffParams): DiffViewModel {
  if (p.a.kind === 'run' && p.b.kind === 'run') {
    const store = handle.get();
    if (!store) throw new LabbookError('NO_STORE', 'This workspace has no Labbook store yet, so there are no runs to compare.');
    return runsView(store, p.a.run, p.b.run);
  }
  if (p.a.kind === 'run' || p.b.kind === 'run') throw new LabbookError('BAD_ARGUMENT', 'Compare two runs, or two notebooks — not a run with a notebook.');
  const labels = { a: label(handle, p.a), b: label(handle, p.b) };
  const title = p.a.kind === 'git' && p.b.kind === 'file' && p.a.path === p.b.path ? `${labels.b} (${p.a.rev} ↔ working tree)` : `${labels.a} ↔ ${labels.b}`;
  return notebookPairView(text(p.a), text(p.b), labels, title);
}

function text(s: DiffSideSpec): string {
  if (s.kind === 'file') return readFileText(s.path);
  if (s.kind === 'git') return gitShow(s.rev, s.path, path.dirname(s.path));
  throw new Error('unreachable');
}

function label(handle: StoreHandle, s: DiffSideSpec): string {
  if (s.kind === 'run') return s.run;
  const ws = handle.workspace;
  const rel = ws && !path.relative(ws, s.path).startsWith('..') ? path.relative(ws, s.path).split(path.sep).join('/') : s.path;
  return s.kind === 'git' ? `${s.rev}:${rel}` : rel;
}
