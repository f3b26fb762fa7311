/**
 * Session runs: what the user does in VS Code's notebook editor, with any kernel. The first
 * finished cell execution of a notebook opens a session run (owned by this server process, so a
 * server crash leaves it 'crashed'); each execution is appended; a snapshot keeps the saved
 * notebook; closing the notebook (or the server shutting down) finishes it.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LabbookError } from '../core/errors';
import type { StoreHandle } from '../core/storeHandle';
import type { CellExecutedParams, CheckCellsParams, HiddenStateProblem } from '../protocol/requests';
import { analyzeCells } from '../tracking/check';
import { captureGit, captureSystem } from '../tracking/environment';
import { relativeToWorkspace } from '../tracking/events';

export class SessionManager {
  private readonly sessions = new Map<string, string>();
  private snapshots = 0;

  constructor(private readonly handle: StoreHandle) {}

  private workspace(): string {
    if (!this.handle.workspace) throw new LabbookError('NO_STORE', 'Open a folder first: Labbook keeps its runs in the workspace.');
    return this.handle.workspace;
  }

  private sessionFor(notebook: string): string {
    const existing = this.sessions.get(notebook);
    if (existing) return existing;
    const store = this.handle.getOrCreate();
    const ws = this.workspace();
    const run = store.createRun({ name: `${path.basename(notebook, '.ipynb')} (session)`, kind: 'session', command: `VS Code: ${relativeToWorkspace(ws, notebook)}`, cwd: path.dirname(notebook), pid: process.pid });
    this.sessions.set(notebook, run.id);
    if (fs.existsSync(notebook)) store.addCode(run.id, { path: relativeToWorkspace(ws, notebook), kind: 'notebook', blob: store.putBlob(fs.readFileSync(notebook)) });
    // The environment arrives a moment later; the run is usable at once.
    void Promise.all([captureSystem(), captureGit(store, ws)]).then(([sys, git]) => {
      if (store.isOpen) store.setEnvironment(run.id, { ...sys, ...git, extra: { ...(git.extra ?? {}), session: true } });
    });
    return run.id;
  }

  executed(p: CellExecutedParams): { runId: string } {
    const runId = this.sessionFor(p.notebook);
    this.handle.getOrCreate().addExecutions(runId, [p.execution]);
    return { runId };
  }

  snapshot(notebook: string): { runId: string; artifact: string } {
    if (!fs.existsSync(notebook)) throw new LabbookError('BAD_ARGUMENT', `${notebook} is not saved on disk yet: save it first.`);
    const runId = this.sessionFor(notebook);
    const store = this.handle.getOrCreate();
    const body = fs.readFileSync(notebook);
    const blob = store.putBlob(body);
    const artifact = `snapshot-${++this.snapshots}-${path.basename(notebook)}`;
    store.addArtifact(runId, { path: artifact, blob, size: body.length, kind: 'snapshot' });
    store.addCode(runId, { path: relativeToWorkspace(this.workspace(), notebook), kind: 'notebook', blob });
    return { runId, artifact };
  }

  end(notebook: string): { runId: string | null } {
    const runId = this.sessions.get(notebook) ?? null;
    if (runId) {
      this.sessions.delete(notebook);
      this.handle.getOrCreate().endRun(runId, 'finished', null);
    }
    return { runId };
  }

  endAll(): void {
    for (const nb of [...this.sessions.keys()]) this.end(nb);
  }

  async check(p: CheckCellsParams): Promise<{ problems: HiddenStateProblem[]; warnings: string[] }> {
    const r = await analyzeCells(p.cells, p.python ?? 'python3');
    const runId = this.sessions.get(p.notebook);
    if (runId && r.problems.length) this.handle.getOrCreate().addTag(runId, 'hidden-state');
    return r;
  }
}
