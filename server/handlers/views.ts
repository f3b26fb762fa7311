/** Requests behind the views: compare, evaluation, live progress, and the Runs tree's edits. */
import { LabbookError } from '../core/errors';
import type { StoreHandle } from '../core/storeHandle';
import { runJson, type RunJson } from '../core/runJson';
import type { CompareData, CompareParams, EvaluatedRun, EvaluationDto, LiveData, LiveParams } from '../protocol/views';
import type { Store } from '../store/db';
import { compareRuns } from '../views/compare';
import { evaluatedRuns, readEvaluation } from '../views/evaluation';
import { liveData } from '../views/live';

function store(handle: StoreHandle, what: string): Store {
  const s = handle.get();
  if (!s) throw new LabbookError('NO_STORE', `This workspace has no Labbook store yet: there is nothing to ${what}.`);
  return s;
}

export function compare(handle: StoreHandle, p: CompareParams): CompareData {
  return compareRuns(store(handle, 'compare'), p);
}

export function evaluation(handle: StoreHandle, p: { id: string }): EvaluationDto {
  return readEvaluation(store(handle, 'show'), p.id);
}

export function evaluations(handle: StoreHandle): EvaluatedRun[] {
  const s = handle.get();
  return s ? evaluatedRuns(s) : [];
}

export function live(handle: StoreHandle, p: LiveParams, cancellable: (id: string) => boolean): LiveData {
  return liveData(store(handle, 'watch'), p, cancellable);
}

export function showRun(handle: StoreHandle, p: { id: string }): RunJson {
  const s = store(handle, 'show');
  return runJson(s, s.getRun(p.id));
}

export function tagRun(handle: StoreHandle, p: { id: string; add?: string[]; remove?: string[] }): string[] {
  const s = store(handle, 'tag');
  for (const t of [...(p.add ?? []), ...(p.remove ?? [])]) {
    if (!/^[^\s,]{1,64}$/.test(t)) throw new LabbookError('BAD_ARGUMENT', `'${t}' is not a tag: use 1–64 characters without spaces or commas.`);
  }
  for (const t of p.add ?? []) s.addTag(p.id, t);
  for (const t of p.remove ?? []) s.removeTag(p.id, t);
  return s.getRun(p.id).tags;
}

export function deleteRun(handle: StoreHandle, p: { id: string }): { id: string; name: string; keptChildren: string[] } {
  return store(handle, 'delete').deleteRun(p.id);
}
