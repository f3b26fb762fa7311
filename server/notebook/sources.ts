/**
 * What `labbook diff A B` can compare: a notebook file, `REV:path` (a notebook at a git
 * revision), or a run (its code snapshot, from the store). Resolution order for one argument:
 * an existing file, then `REV:path`, then a run id / prefix / name.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError, describeError, errnoCode } from '../core/errors';
import type { Store } from '../store/db';

export type DiffSource =
  | { kind: 'file'; label: string; path: string }
  | { kind: 'git'; label: string; rev: string; path: string }
  | { kind: 'run'; label: string; run: string };

/** Beyond this a notebook is refused rather than read (V8's string limit is ~512 MiB). */
const MAX_NOTEBOOK_BYTES = 400 * 1024 * 1024;

/** `REV:path`, but not a Windows drive (`C:\…`) or a URL. */
const REV_PATH = /^([^:\s][^:]*):(.+)$/;

export function resolveSource(spec: string, cwd: string, store: Store | null): DiffSource {
  const asPath = path.resolve(cwd, spec);
  if (fs.existsSync(asPath)) return { kind: 'file', label: spec, path: asPath };
  const m = REV_PATH.exec(spec);
  if (m && !/^[A-Za-z]$/.test(m[1]) && !m[2].startsWith('//')) return { kind: 'git', label: spec, rev: m[1], path: m[2] };
  if (store) {
    try {
      const run = store.getRun(spec);
      return { kind: 'run', label: `run ${run.id}${run.name ? ` (${run.name})` : ''}`, run: run.id };
    } catch (e) {
      if (!(e instanceof LabbookError) || e.code !== 'RUN_NOT_FOUND') throw e;
    }
  }
  throw new LabbookError('NOT_FOUND', `'${spec}' is not a file, a REV:path git revision${store ? ' or a run' : ''}${store ? '' : ' (and this workspace has no runs)'}.`);
}

/** The text of a notebook file, or of `rev:file` through git (relative to `cwd`). */
export function readSourceText(src: DiffSource & { kind: 'file' | 'git' }, cwd: string): string {
  if (src.kind === 'file') return readFileText(src.path);
  return gitShow(src.rev, src.path, cwd);
}

export function readFileText(file: string): string {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new LabbookError('NOT_FOUND', `Cannot read ${file}: ${errnoCode(e) === 'ENOENT' ? 'no such file' : describeError(e)}.`, { cause: e });
  }
  if (st.isDirectory()) throw new LabbookError('BAD_NOTEBOOK', `${file} is a folder, not a notebook.`);
  if (st.size > MAX_NOTEBOOK_BYTES) throw new LabbookError('BAD_NOTEBOOK', `${file} is ${(st.size / 1024 ** 2).toFixed(0)} MB; notebooks over ${MAX_NOTEBOOK_BYTES / 1024 ** 2} MB are not diffed.`);
  return fs.readFileSync(file, 'utf8');
}

/** `git show REV:./PATH` run from the folder holding PATH, so relative paths mean what the user typed. */
export function gitShow(rev: string, file: string, cwd: string): string {
  const abs = path.resolve(cwd, file);
  let dir = path.dirname(abs);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  const rel = path.relative(dir, abs).split(path.sep).join('/');
  const r = spawnSync('git', ['-C', dir, 'show', `${rev}:./${rel}`], { encoding: 'utf8', maxBuffer: MAX_NOTEBOOK_BYTES, windowsHide: true });
  if (r.error) {
    const why = errnoCode(r.error) === 'ENOENT' ? 'git is not installed (or not on PATH)' : describeError(r.error);
    throw new LabbookError('GIT_FAILED', `Cannot read ${rev}:${file}: ${why}.`, { cause: r.error });
  }
  if (r.status !== 0) {
    const msg = (r.stderr || '').trim().replace(/^fatal:\s*/, '');
    if (/not a git repository/i.test(msg)) throw new LabbookError('GIT_FAILED', `Cannot read ${rev}:${file}: ${dir} is not in a git repository.`);
    if (/does not exist|exists on disk, but not in/i.test(msg)) throw new LabbookError('NOT_FOUND', `${file} does not exist at revision ${rev}.`);
    if (/invalid object name|unknown revision|bad revision/i.test(msg)) throw new LabbookError('GIT_FAILED', `'${rev}' is not a revision of the repository at ${dir}.`);
    throw new LabbookError('GIT_FAILED', `git show ${rev}:${file} failed: ${msg.split('\n')[0]}`);
  }
  return r.stdout;
}
