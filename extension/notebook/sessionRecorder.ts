/**
 * Live capture of notebooks in VS Code's editor, whatever the kernel: every finished cell
 * execution goes to the notebook's session run; hidden state (cells run out of order, edited
 * after they ran, reading names only a later or no cell defines) shows as diagnostics on the
 * cells, with a quick fix that runs the notebook cleanly, top to bottom, with tracking.
 */
import * as crypto from 'crypto';
import * as vscode from 'vscode';
import { CellExecutedRequest, CheckCellsRequest, EndSessionRequest, type HiddenStateProblem, SaveSnapshotRequest } from '../../server/protocol/requests';
import type { ServerClient } from '../client/serverClient';
import { pythonInterpreter } from '../client/python';
import type { Log } from '../util/log';

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const CHECK_DELAY_MS = 400;

function isTracked(nb: vscode.NotebookDocument): boolean {
  return nb.uri.scheme === 'file' && nb.uri.fsPath.endsWith('.ipynb');
}

export class SessionRecorder implements vscode.Disposable, vscode.CodeActionProvider {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('labbook');
  private readonly subscriptions: vscode.Disposable[] = [];
  /** Per notebook: the end time of each cell's last recorded execution, and its source then. */
  private readonly seen = new Map<string, WeakMap<vscode.NotebookCell, { endTime: number; sourceHash: string }>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly checked = new vscode.EventEmitter<{ notebook: vscode.Uri; problems: HiddenStateProblem[] }>();
  /** Fires after each hidden-state check of a notebook (views and tests wait on it). */
  readonly onDidCheck = this.checked.event;
  private readonly recorded = new vscode.EventEmitter<{ notebook: vscode.Uri; runId: string }>();
  /** Fires after an execution was recorded in the session run. */
  readonly onDidRecord = this.recorded.event;

  constructor(
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeNotebookDocument((e) => this.onChange(e)),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.onClose(nb)),
      vscode.languages.registerCodeActionsProvider({ notebookType: 'jupyter-notebook', language: 'python' }, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
    );
  }

  /** Keeps the notebook as it is on disk now in its session run (saving it first). */
  async saveSnapshot(uri?: vscode.Uri): Promise<{ runId: string; artifact: string } | undefined> {
    const nb = uri ? vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString()) : vscode.window.activeNotebookEditor?.notebook;
    if (!nb) {
      void vscode.window.showWarningMessage('Labbook: open a notebook to save a run snapshot of it.');
      return undefined;
    }
    if (nb.isDirty) await nb.save();
    const r = await this.client.request(SaveSnapshotRequest, { notebook: nb.uri.fsPath });
    void vscode.window.showInformationMessage(`Labbook: snapshot ${r.artifact} saved in session run ${r.runId}.`);
    return r;
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    if (!ctx.diagnostics.some((d) => d.source === 'labbook')) return [];
    const nb = vscode.workspace.notebookDocuments.find((n) => n.getCells().some((c) => c.document.uri.toString() === doc.uri.toString()));
    if (!nb) return [];
    const action = new vscode.CodeAction('Run All Cleanly with Tracking', vscode.CodeActionKind.QuickFix);
    action.command = { command: 'labbook.runNotebook', title: 'Run All Cleanly with Tracking', arguments: [nb.uri, { overrides: {} }] };
    action.diagnostics = ctx.diagnostics.filter((d) => d.source === 'labbook');
    action.isPreferred = true;
    return [action];
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const s of this.subscriptions) s.dispose();
    this.diagnostics.dispose();
    this.checked.dispose();
    this.recorded.dispose();
  }

  private cellsSeen(nb: vscode.NotebookDocument) {
    let m = this.seen.get(nb.uri.toString());
    if (!m) this.seen.set(nb.uri.toString(), (m = new WeakMap()));
    return m;
  }

  private onChange(e: vscode.NotebookDocumentChangeEvent): void {
    const nb = e.notebook;
    if (!isTracked(nb)) return;
    const seen = this.cellsSeen(nb);
    let touched = e.contentChanges.length > 0;
    for (const change of e.cellChanges) {
      if (change.document) touched = true;
      const summary = change.executionSummary ?? change.cell.executionSummary;
      const end = summary?.timing?.endTime;
      if (!change.executionSummary || !end || seen.get(change.cell)?.endTime === end) continue;
      const source = change.cell.document.getText();
      seen.set(change.cell, { endTime: end, sourceHash: sha256(source) });
      touched = true;
      const start = summary.timing?.startTime ?? null;
      void this.client
        .request(CellExecutedRequest, {
          notebook: nb.uri.fsPath,
          execution: {
            cellId: (change.cell.metadata as { id?: string } | undefined)?.id ?? null,
            cellIndex: change.cell.index,
            sourceSha256: sha256(source),
            executionCount: summary.executionOrder ?? null,
            success: summary.success ?? null,
            startedAt: start,
            durationMs: start !== null ? end - start : null,
          },
        })
        .then((r) => this.recorded.fire({ notebook: nb.uri, runId: r.runId }))
        .catch((err) => this.log.error('recording a cell execution', err));
    }
    if (touched) this.scheduleCheck(nb);
  }

  private scheduleCheck(nb: vscode.NotebookDocument): void {
    const key = nb.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => void this.check(nb), CHECK_DELAY_MS));
  }

  private async check(nb: vscode.NotebookDocument): Promise<void> {
    const seen = this.cellsSeen(nb);
    const code = nb.getCells().filter((c) => c.kind === vscode.NotebookCellKind.Code);
    // Only notebooks something ran in this session have live state to check.
    if (!code.some((c) => seen.get(c))) return;
    try {
      const python = await pythonInterpreter(nb.uri);
      const r = await this.client.request(CheckCellsRequest, {
        notebook: nb.uri.fsPath,
        python: python.path,
        cells: code.map((c) => {
          const ran = seen.get(c);
          return {
            index: c.index,
            source: c.document.getText(),
            executionCount: c.executionSummary?.executionOrder ?? null,
            editedSinceRun: !!ran && ran.sourceHash !== sha256(c.document.getText()),
          };
        }),
      });
      for (const c of nb.getCells()) this.diagnostics.delete(c.document.uri);
      const byCell = new Map<number, vscode.Diagnostic[]>();
      for (const p of r.problems) {
        const d = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 0), `Hidden state: ${p.message}`, vscode.DiagnosticSeverity.Warning);
        d.source = 'labbook';
        d.code = p.kind;
        byCell.set(p.cell, [...(byCell.get(p.cell) ?? []), d]);
      }
      for (const [index, diags] of byCell) this.diagnostics.set(nb.cellAt(index).document.uri, diags);
      this.checked.fire({ notebook: nb.uri, problems: r.problems });
    } catch (e) {
      this.log.error(`checking ${nb.uri.fsPath} for hidden state`, e);
    }
  }

  private onClose(nb: vscode.NotebookDocument): void {
    if (!isTracked(nb)) return;
    for (const c of nb.getCells()) this.diagnostics.delete(c.document.uri);
    this.seen.delete(nb.uri.toString());
    if (this.client.state === 'running') void this.client.request(EndSessionRequest, { notebook: nb.uri.fsPath }).catch((e) => this.log.error('ending a notebook session', e));
  }
}
