/**
 * Re-creating a run: the same command (or notebook with the same injected parameters) in the
 * same folder with the same interpreter, recorded as a child of the original. Before: every
 * recorded input and code file is compared with what is on disk now. After: a verdict —
 * reproduced, or which final metric values moved beyond the tolerance.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError } from '../core/errors';
import type { Store } from '../store/db';
import { hashFile, sha256File } from './hashing';
import { trackNotebook } from './notebook';
import { type TrackOptions, type TrackResult, trackRun } from './runner';

export interface Change {
  path: string;
  before: string | null;
  after: string | null;
}

export interface MetricDifference {
  metric: string;
  before: number | null;
  after: number | null;
}

export interface RerunVerdict {
  reproduced: boolean;
  tolerance: number;
  dataChanged: Change[];
  codeChanged: Change[];
  differences: MetricDifference[];
}

/** Splits a command recorded by `quote` (POSIX single quotes) back into its words. */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i];
    if (ch === "'") {
      const end = command.indexOf("'", i + 1);
      if (end < 0) throw new LabbookError('BAD_ARGUMENT', `cannot re-read the recorded command: ${command}`);
      cur += command.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (ch === '\\' && i + 1 < command.length) {
      cur += command[++i];
      inWord = true;
    } else if (ch === ' ') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

async function currentHash(store: Store, file: string): Promise<string | null> {
  try {
    return (await hashFile(store, file)).sha256;
  } catch {
    return null;
  }
}

/** Inputs and code of `runId` whose content on disk differs now. */
export async function changesSince(store: Store, runId: string): Promise<{ data: Change[]; code: Change[] }> {
  const run = store.getRun(runId);
  const ws = store.paths.workspace;
  const data: Change[] = [];
  for (const i of run.inputs) {
    if (!i.sha256) continue;
    const now = await currentHash(store, path.resolve(ws, i.path));
    if (now !== i.sha256) data.push({ path: i.path, before: i.sha256, after: now });
  }
  const code: Change[] = [];
  for (const c of run.code) {
    if (c.kind === 'diff') continue;
    const file = path.resolve(ws, c.path);
    const now = fs.existsSync(file) ? await sha256File(file) : null;
    if (now !== c.blob) code.push({ path: c.path, before: c.blob, after: now });
  }
  return { data, code };
}

export function compareMetrics(store: Store, a: string, b: string, tolerance: number): MetricDifference[] {
  const last = (id: string) => new Map(store.getRun(id).metrics.map((m) => [m.key, m.last]));
  const before = last(a);
  const after = last(b);
  const out: MetricDifference[] = [];
  for (const key of new Set([...before.keys(), ...after.keys()])) {
    const x = before.get(key) ?? null;
    const y = after.get(key) ?? null;
    const same = x === null || y === null ? x === y && before.has(key) && after.has(key) : Math.abs(x - y) <= tolerance * Math.max(1, Math.abs(x), Math.abs(y));
    if (!same) out.push({ metric: key, before: x, after: y });
  }
  return out.sort((p, q) => p.metric.localeCompare(q.metric));
}

export interface RerunOptions extends Pick<TrackOptions, 'onOutput' | 'onStarted' | 'signal' | 'python'> {
  tolerance?: number;
  /** Called with what changed since the original, before anything runs. */
  onChanges?: (c: { data: Change[]; code: Change[] }) => void;
}

export async function rerun(store: Store, ref: string, o: RerunOptions = {}): Promise<{ result: TrackResult; original: string; verdict: RerunVerdict }> {
  const original = store.getRun(ref);
  if (original.kind !== 'script' && original.kind !== 'notebook') {
    throw new LabbookError('BAD_ARGUMENT', `run ${original.id} is a ${original.kind} run; rerun re-creates script and notebook runs`);
  }
  if (!original.command || !original.cwd) throw new LabbookError('BAD_ARGUMENT', `run ${original.id} has no recorded command to run again`);
  if (!fs.existsSync(original.cwd)) throw new LabbookError('BAD_ARGUMENT', `run ${original.id} ran in ${original.cwd}, which no longer exists`);
  const changes = await changesSince(store, original.id);
  o.onChanges?.(changes);
  const tolerance = o.tolerance ?? 1e-6;
  const base = {
    workspace: store.paths.workspace,
    cwd: original.cwd,
    name: original.name,
    parentId: original.id,
    onOutput: o.onOutput,
    onStarted: o.onStarted,
    signal: o.signal,
  };
  let result: TrackResult;
  if (original.kind === 'notebook') {
    const nb = original.code.find((c) => c.kind === 'notebook');
    if (!nb) throw new LabbookError('BAD_ARGUMENT', `run ${original.id} has no notebook recorded`);
    const overrides = new Map(original.params.filter((p) => p.source === 'injected').map((p) => [p.key, p.value]));
    result = await trackNotebook(store, { ...base, notebook: path.resolve(store.paths.workspace, nb.path), overrides, python: o.python ?? original.environment?.python ?? 'python3' });
  } else {
    const argv = splitCommand(original.command);
    result = await trackRun(store, { ...base, command: o.python ? [o.python, ...argv.slice(1)] : argv, python: o.python ?? argv[0] });
  }
  const differences = result.run.status === 'finished' ? compareMetrics(store, original.id, result.run.id, tolerance) : [];
  return {
    result,
    original: original.id,
    verdict: { reproduced: result.run.status === 'finished' && original.status === 'finished' && differences.length === 0, tolerance, dataChanged: changes.data, codeChanged: changes.code, differences },
  };
}
