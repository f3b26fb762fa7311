/**
 * Run Script / Run Notebook with Tracking: the run happens in the server; here we pick the file,
 * ask for parameter overrides, show progress (cancellable) and stream output to "Labbook Runs".
 */
import * as path from 'path';
import * as vscode from 'vscode';
import { CancelRunRequest, ListRunsRequest, type RunEndedParams, RunEndedNotification, RunOutputNotification, type StartRunParams, StartRunRequest } from '../../server/protocol/requests';
import type { ServerClient } from '../client/serverClient';
import { pythonInterpreter } from '../client/python';
import { formatDuration, shortHash } from '../../server/core/format';
import type { Log } from '../util/log';

export interface RunCommandOptions {
  /** Skip the prompt: these overrides (possibly none). */
  overrides?: Record<string, string>;
  name?: string;
}

/** `lr=0.01 epochs=5` → { lr: '0.01', epochs: '5' }; throws on a part without '='. */
export function parseOverrides(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.trim().split(/\s+/).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`'${part}' is not key=value`);
    out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export class RunCommands implements vscode.Disposable {
  private readonly output: vscode.OutputChannel;
  private readonly ended = new vscode.EventEmitter<RunEndedParams>();
  /** Fires when a run started from VS Code has ended and is recorded. */
  readonly onDidEndRun = this.ended.event;
  private readonly waiting = new Map<string, (p: RunEndedParams) => void>();

  constructor(
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {
    this.output = vscode.window.createOutputChannel('Labbook Runs');
    client.onNotification(RunOutputNotification, (p) => this.output.append(p.text));
    client.onNotification(RunEndedNotification, (p) => {
      this.waiting.get(p.runId)?.(p);
      this.waiting.delete(p.runId);
      this.ended.fire(p);
    });
  }

  async runScript(uri?: vscode.Uri, options?: RunCommandOptions): Promise<RunEndedParams | undefined> {
    const target = uri ?? (await this.pick('python', '**/*.py', 'Pick a Python script to run with tracking'));
    return target ? this.run('script', target, options) : undefined;
  }

  async runNotebook(uri?: vscode.Uri, options?: RunCommandOptions): Promise<RunEndedParams | undefined> {
    const target = uri ?? vscode.window.activeNotebookEditor?.notebook.uri ?? (await this.pick(undefined, '**/*.ipynb', 'Pick a notebook to run with tracking'));
    return target ? this.run('notebook', target, options) : undefined;
  }

  dispose(): void {
    this.output.dispose();
    this.ended.dispose();
  }

  private async pick(languageId: string | undefined, glob: string, title: string): Promise<vscode.Uri | undefined> {
    const active = vscode.window.activeTextEditor?.document;
    if (languageId && active?.languageId === languageId && active.uri.scheme === 'file') return active.uri;
    const files = await vscode.workspace.findFiles(glob, '{**/node_modules/**,**/.labbook/**,**/.venv/**}', 500);
    const choice = await vscode.window.showQuickPick(
      files.map((f) => ({ label: vscode.workspace.asRelativePath(f), uri: f })),
      { title, placeHolder: files.length ? undefined : 'No matching files in this workspace' },
    );
    return choice?.uri;
  }

  private async run(kind: 'script' | 'notebook', target: vscode.Uri, options?: RunCommandOptions): Promise<RunEndedParams | undefined> {
    if (!(await this.trusted())) return undefined;
    let overrides = options?.overrides;
    if (!overrides) {
      const text = await vscode.window.showInputBox({
        title: `Run ${path.basename(target.fsPath)} with tracking`,
        prompt: kind === 'notebook' ? 'Parameter overrides, injected after the cell tagged "parameters" (optional)' : 'Parameter overrides: replace --key values or add them (optional)',
        placeHolder: 'lr=0.01 epochs=5',
        validateInput: (v) => {
          try {
            parseOverrides(v);
            return undefined;
          } catch (e) {
            return (e as Error).message;
          }
        },
      });
      if (text === undefined) return undefined;
      overrides = parseOverrides(text);
    }
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.toString());
    if (doc?.isDirty) await doc.save();
    const nbDoc = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === target.toString());
    if (nbDoc?.isDirty) await nbDoc.save();

    const python = await pythonInterpreter(target);
    this.log.info(`running ${kind} ${target.fsPath} with ${python.path} (from ${python.from})`);
    const data = vscode.workspace.getConfiguration('labbook', target).get<string[]>('tracking.dataInputs', []);
    return this.execute({ kind, target: target.fsPath, overrides, name: options?.name, python: python.path, data });
  }

  /** Re-creates a recorded run (Runs tree context menu, or pick one). */
  async rerun(runId?: string): Promise<RunEndedParams | undefined> {
    if (!(await this.trusted())) return undefined;
    let id = runId;
    if (!id) {
      const page = await this.client.request(ListRunsRequest, { limit: 200 });
      const pick = await vscode.window.showQuickPick(
        page.runs.filter((r) => r.kind === 'script' || r.kind === 'notebook').map((r) => ({ label: r.name, description: `${r.id} · ${r.status}`, detail: r.command ?? undefined, id: r.id })),
        { title: 'Re-run which run?' },
      );
      id = pick?.id;
    }
    return id ? this.execute({ kind: 'rerun', target: id }) : undefined;
  }

  /** Running code needs Workspace Trust; without it, say so (once) and offer to manage it. */
  private async trusted(): Promise<boolean> {
    if (vscode.workspace.isTrusted) return true;
    const c = await vscode.window.showWarningMessage('Labbook does not run code in an untrusted workspace. Trust this folder to run scripts and notebooks with tracking.', 'Manage Workspace Trust');
    if (c) await vscode.commands.executeCommand('workbench.trust.manage');
    return false;
  }

  private async execute(params: StartRunParams): Promise<RunEndedParams> {
    const started = await this.client.request(StartRunRequest, params);
    this.output.appendLine(`── run ${started.runId} (${started.name}) ──`);
    const ended = new Promise<RunEndedParams>((resolve) => this.waiting.set(started.runId, resolve));
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Labbook: running ${started.name} (${started.runId})`, cancellable: true },
      (_progress, token) => {
        token.onCancellationRequested(() => void this.client.request(CancelRunRequest, { runId: started.runId }));
        return ended;
      },
    );
    this.report(result);
    return result;
  }

  private report(r: RunEndedParams): void {
    this.output.appendLine(`── run ${r.runId} ${r.status}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ''} in ${formatDuration(r.durationS)} ──`);
    for (const w of r.warnings) this.output.appendLine(`warning: ${w}`);
    const v = r.verdict;
    if (v) {
      for (const c of v.dataChanged) this.output.appendLine(`data changed since ${v.original}: ${c.path} (${shortHash(c.before)} → ${shortHash(c.after)})`);
      for (const c of v.codeChanged) this.output.appendLine(`code changed since ${v.original}: ${c.path} (${shortHash(c.before)} → ${shortHash(c.after)})`);
      for (const d of v.differences) this.output.appendLine(`differs from ${v.original}: ${d.metric} ${d.before} → ${d.after}`);
      const changed = v.dataChanged.length + v.codeChanged.length ? ` (${v.dataChanged.length} data and ${v.codeChanged.length} code file(s) changed since)` : '';
      if (v.reproduced) void vscode.window.showInformationMessage(`Labbook: run ${r.runId} reproduced ${v.original}${changed}.`);
      else {
        const what = r.status !== 'finished' ? `it ${r.status}` : v.differences.map((d) => `${d.metric} ${d.before} → ${d.after}`).join(', ');
        void vscode.window.showWarningMessage(`Labbook: run ${r.runId} did not reproduce ${v.original}: ${what}${changed}.`, 'Show Output').then((c) => {
          if (c) this.output.show(true);
        });
      }
      return;
    }
    if (r.status === 'finished') {
      void vscode.window.showInformationMessage(`Labbook: run ${r.name} (${r.runId}) finished in ${formatDuration(r.durationS)}.`, 'Show Runs').then((c) => {
        if (c) void vscode.commands.executeCommand('labbook.showRuns');
      });
    } else {
      const why = r.error ?? (r.status === 'crashed' ? 'it was stopped' : `exit ${r.exitCode}`);
      void vscode.window.showErrorMessage(`Labbook: run ${r.name} (${r.runId}) ${r.status}: ${why}.`, 'Show Output').then((c) => {
        if (c) this.output.show(true);
      });
    }
  }
}

/** "Run & track" above every Python file opened from disk. */
export class RunCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (doc.uri.scheme !== 'file' || !vscode.workspace.getConfiguration('labbook').get<boolean>('codeLens.enabled', true)) return [];
    return [new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: '$(play) Run & track', command: 'labbook.runScript', arguments: [doc.uri], tooltip: 'Run this script with Labbook tracking' })];
  }
}
