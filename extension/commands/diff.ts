/**
 * The diff commands: Diff Notebook with HEAD / with a Revision, Diff Two Notebooks and Diff
 * Code of Two Runs. Each takes its sides from where it was run (explorer, SCM, editor, Runs
 * tree) or asks for them.
 */
import * as path from 'path';
import * as vscode from 'vscode';
import type { DiffParams } from '../../server/protocol/diffDto';
import { ListRunsRequest } from '../../server/protocol/requests';
import type { ServerClient } from '../client/serverClient';
import type { DiffPanel, DiffPanels } from '../panels/diffPanel';
import type { CommandFn } from './table';

export type DiffCommandId = 'labbook.diffWithHead' | 'labbook.diffWithRevision' | 'labbook.diffNotebooks' | 'labbook.diffRuns';

/** A URI from whatever VS Code passed: a Uri, an SCM resource state, or nothing (the active editor). */
function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const scm = arg as { resourceUri?: unknown } | undefined;
  if (scm?.resourceUri instanceof vscode.Uri) return scm.resourceUri;
  return vscode.window.activeNotebookEditor?.notebook.uri ?? vscode.window.activeTextEditor?.document.uri;
}

/** A run id from a Runs tree node, a plain id, or nothing. */
function runIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const node = arg as { type?: string; run?: { id?: string } } | undefined;
  return node?.type === 'run' && typeof node.run?.id === 'string' ? node.run.id : undefined;
}

export class DiffCommands {
  constructor(
    private readonly client: ServerClient,
    private readonly panels: DiffPanels,
  ) {}

  table(): Record<DiffCommandId, CommandFn> {
    return {
      'labbook.diffWithHead': (arg?: unknown) => this.withRevision(arg, 'HEAD'),
      'labbook.diffWithRevision': (arg?: unknown, rev?: unknown) => this.withRevision(arg, typeof rev === 'string' ? rev : undefined),
      'labbook.diffNotebooks': (a?: unknown, b?: unknown) => this.twoNotebooks(a, b),
      'labbook.diffRuns': (a?: unknown, b?: unknown) => this.twoRuns(a, b),
    };
  }

  /** The notebook against itself at a git revision (asked for when not given). */
  async withRevision(arg: unknown, rev: string | undefined): Promise<DiffPanel | undefined> {
    const uri = targetUri(arg);
    if (!uri || uri.scheme !== 'file') {
      void vscode.window.showWarningMessage('Labbook: open or select a notebook (.ipynb) saved in a folder under git to diff it.');
      return undefined;
    }
    if (!(await this.savedOrChosen(uri))) return undefined;
    const revision =
      rev ??
      (await vscode.window.showInputBox({
        title: 'Diff Notebook with Revision',
        prompt: 'A git revision: a branch, tag, commit, HEAD~2, stash@{0} …',
        value: 'HEAD~1',
        validateInput: (v) => (v.trim() && !/\s/.test(v.trim()) ? undefined : 'Type one revision, without spaces'),
      }));
    if (!revision) return undefined;
    const params: DiffParams = { a: { kind: 'git', rev: revision.trim(), path: uri.fsPath }, b: { kind: 'file', path: uri.fsPath } };
    return this.panels.open(params, `${path.basename(uri.fsPath)} with ${revision.trim()}`);
  }

  /** Unsaved edits are not on disk: save first, or diff what is saved. */
  private async savedOrChosen(uri: vscode.Uri): Promise<boolean> {
    const dirty = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString() && d.isDirty);
    if (!dirty) return true;
    const choice = await vscode.window.showWarningMessage(`${path.basename(uri.fsPath)} has unsaved changes; the diff reads the file on disk.`, 'Save and Diff', 'Diff Saved Version');
    if (choice === 'Save and Diff') return dirty.save();
    return choice === 'Diff Saved Version';
  }

  async twoNotebooks(a: unknown, b: unknown): Promise<DiffPanel | undefined> {
    // From the explorer with two files selected: (clicked, [all selected]).
    let first = a instanceof vscode.Uri ? a : undefined;
    let second: vscode.Uri | undefined = b instanceof vscode.Uri ? b : undefined;
    if (Array.isArray(b)) {
      const picked = b.filter((u): u is vscode.Uri => u instanceof vscode.Uri);
      if (picked.length === 2) [first, second] = picked;
      else if (picked.length > 2) {
        void vscode.window.showWarningMessage('Labbook: select exactly two notebooks to diff.');
        return undefined;
      }
    }
    first ??= targetUri(undefined);
    if (!first || !first.fsPath.endsWith('.ipynb')) first = await this.pickNotebook('Diff Two Notebooks: the first (left) notebook');
    if (!first) return undefined;
    second ??= await this.pickNotebook(`Diff ${path.basename(first.fsPath)} with…`);
    if (!second) return undefined;
    const params: DiffParams = { a: { kind: 'file', path: first.fsPath }, b: { kind: 'file', path: second.fsPath } };
    return this.panels.open(params, `${path.basename(first.fsPath)} and ${path.basename(second.fsPath)}`);
  }

  private async pickNotebook(title: string): Promise<vscode.Uri | undefined> {
    const found = await vscode.workspace.findFiles('**/*.ipynb', '**/{node_modules,.labbook,.ipynb_checkpoints}/**', 500);
    if (found.length === 0) {
      const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { Notebooks: ['ipynb'] } });
      return picked?.[0];
    }
    const items = found
      .map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(path.dirname(u.fsPath)), uri: u }))
      .sort((x, y) => x.description.localeCompare(y.description) || x.label.localeCompare(y.label));
    const choice = await vscode.window.showQuickPick(items, { title, matchOnDescription: true });
    return choice?.uri;
  }

  async twoRuns(a: unknown, b: unknown): Promise<DiffPanel | undefined> {
    let ids = [runIdOf(a), ...(Array.isArray(b) ? b.map(runIdOf) : [runIdOf(b)])].filter((x): x is string => !!x);
    ids = [...new Set(ids)];
    if (ids.length > 2) {
      void vscode.window.showWarningMessage('Labbook: select exactly two runs to diff their code.');
      return undefined;
    }
    if (ids.length < 2) {
      const page = await this.client.request(ListRunsRequest, { limit: 500, topLevel: false });
      if (page.runs.length < 2) {
        void vscode.window.showInformationMessage('Labbook: there are fewer than two runs in this workspace to compare.');
        return undefined;
      }
      const items = page.runs.map((r) => ({ label: r.name, description: `${r.id} · ${r.status}`, detail: new Date(r.startedAt).toLocaleString(), picked: ids.includes(r.id), id: r.id }));
      const chosen = await vscode.window.showQuickPick(items, { title: 'Diff Code of Two Runs: pick two runs', canPickMany: true, matchOnDescription: true });
      if (!chosen) return undefined;
      if (chosen.length !== 2) {
        void vscode.window.showWarningMessage(`Labbook: pick exactly two runs (you picked ${chosen.length}).`);
        return undefined;
      }
      ids = chosen.map((c) => c.id);
    }
    return this.panels.open({ a: { kind: 'run', run: ids[0] }, b: { kind: 'run', run: ids[1] } }, `runs ${ids[0]} and ${ids[1]}`);
  }
}
