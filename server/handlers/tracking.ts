/**
 * Runs started from VS Code: tracked in the server (the store's writer), output and the end
 * streamed back as notifications, cancellable. The request answers as soon as the run exists.
 */
import { LabbookError, describeError } from '../core/errors';
import type { StoreHandle } from '../core/storeHandle';
import type { RunEndedParams, RunOutputParams, StartRunParams, StartRunResult } from '../protocol/requests';
import { trackNotebook } from '../tracking/notebook';
import { rerun } from '../tracking/rerun';
import { type TrackResult, trackRun } from '../tracking/runner';
import * as path from 'path';

export interface TrackingEvents {
  output(p: RunOutputParams): void;
  ended(p: RunEndedParams): void;
  log(message: string): void;
}

export class RunManager {
  private readonly active = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  trusted = false;

  constructor(
    private readonly handle: StoreHandle,
    private readonly events: TrackingEvents,
  ) {}

  start(p: StartRunParams): Promise<StartRunResult> {
    if (!this.trusted) {
      throw new LabbookError('BAD_ARGUMENT', 'Labbook does not run code in an untrusted workspace. Trust this folder (Workspaces: Manage Workspace Trust) to run scripts and notebooks.');
    }
    const workspace = this.handle.workspace;
    if (!workspace) throw new LabbookError('NO_STORE', 'Open a folder first: Labbook keeps its runs in the workspace.');
    const store = this.handle.getOrCreate();
    const abort = new AbortController();
    return new Promise<StartRunResult>((resolve, reject) => {
      let started: StartRunResult | undefined;
      let job: Promise<TrackResult> | undefined;
      // onStarted may fire before trackRun returns its promise, or after: register once both exist.
      const register = () => {
        if (started && job && !this.active.has(started.runId)) this.active.set(started.runId, { abort, done: job.catch(() => undefined) });
      };
      const common = {
        workspace,
        cwd: p.kind === 'notebook' ? path.dirname(p.target) : workspace,
        overrides: new Map(Object.entries(p.overrides ?? {})),
        name: p.name,
        data: p.data,
        signal: abort.signal,
        onOutput: (stream: 'stdout' | 'stderr', text: string) => started && this.events.output({ runId: started.runId, stream, text }),
        onStarted: (run: { id: string; name: string }) => {
          started = { runId: run.id, name: run.name };
          register();
          resolve(started);
        },
      };
      let verdict: RunEndedParams['verdict'];
      const python = p.python ?? 'python3';
      job =
        p.kind === 'rerun'
          ? rerun(store, p.target, { ...common, python: p.python }).then((r) => {
              verdict = { original: r.original, ...r.verdict };
              return r.result;
            })
          : p.kind === 'notebook'
            ? trackNotebook(store, { ...common, python, notebook: p.target })
            : trackRun(store, { ...common, python, command: [python, p.target, ...(p.args ?? [])] });
      register();
      void job.then(
        (r) => {
          this.active.delete(r.run.id);
          this.events.ended({ runId: r.run.id, name: r.run.name, status: r.run.status, exitCode: r.run.exitCode, durationS: r.run.durationS, warnings: r.warnings, verdict });
        },
        (e) => {
          // Before the run exists the request fails with the reason; after, the end says it.
          if (!started) return reject(e);
          this.active.delete(started.runId);
          this.events.log(`run ${started.runId}: ${describeError(e)}`);
          this.events.ended({ runId: started.runId, name: started.name, status: 'failed', exitCode: null, durationS: 0, warnings: [], error: describeError(e) });
        },
      );
    });
  }

  /** Whether this server is running (and so can stop) that run. */
  isActive(runId: string): boolean {
    return this.active.has(runId);
  }

  cancel(runId: string): boolean {
    const a = this.active.get(runId);
    a?.abort.abort();
    return !!a;
  }

  /** Stops every run and waits (up to `ms`) until each has recorded how it ended. */
  async cancelAll(ms: number): Promise<void> {
    const pending = [...this.active.values()];
    for (const a of pending) a.abort.abort();
    await Promise.race([Promise.all(pending.map((a) => a.done)), new Promise((r) => setTimeout(r, ms))]);
  }
}
