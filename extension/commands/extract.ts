/**
 * Extract Notebook to Pipeline: the server analyses the notebook and proposes steps; a Quick Pick
 * preview shows each step with its cells, inputs, outputs and lifted parameters, and lets the user
 * rename, merge and split steps, change how the notebook splits, and pick the output folder before
 * anything is written. Show Source Cells goes back from a generated step to its notebook cells.
 *
 * For scripts and tests the command takes options: `{ accept: true }` writes the proposed steps
 * without showing the preview (existing files are then replaced only with `force: true`).
 */
import * as path from 'path';
import * as vscode from 'vscode';
import {
  type ExtractPlanStep,
  type ExtractPreviewParams,
  ExtractPreviewRequest,
  type ExtractPreviewResult,
  ExtractVerifyRequest,
  type ExtractVerifyResult,
  ExtractWriteRequest,
  type ExtractWriteResult,
} from '../../server/protocol/requests';
import type { ServerClient } from '../client/serverClient';
import { pythonInterpreter } from '../client/python';
import type { Log } from '../util/log';
import { mergeWithNext, renameProblem, renameStep, splitStep } from './extractPlan';

type SplitMode = NonNullable<ExtractPreviewParams['split']>;

export interface ExtractCommandOptions {
  /** Output folder (default: `<notebook name>_pipeline` next to the notebook). */
  outDir?: string;
  split?: SplitMode;
  plan?: ExtractPlanStep[];
  /** Write the proposed steps without the preview. */
  accept?: boolean;
  /** Replace files already in the output folder without asking. */
  force?: boolean;
  /** After writing, run the pipeline and the notebook (tracked) and compare them step by step. */
  verify?: boolean;
}

export type ExtractCommandResult = ExtractWriteResult & { verify?: ExtractVerifyResult };

type Item = vscode.QuickPickItem & { action?: 'write' | 'verify' | 'out' | 'split' | 'step' | 'warnings'; index?: number };

export class ExtractCommands {
  constructor(
    private readonly client: ServerClient,
    private readonly log: Log,
  ) {}

  async extract(uri?: vscode.Uri, options: ExtractCommandOptions = {}): Promise<ExtractCommandResult | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Labbook does not analyse notebooks in an untrusted workspace. Trust this folder to extract pipelines.');
      return undefined;
    }
    const target = uri ?? vscode.window.activeNotebookEditor?.notebook.uri ?? (await this.pickNotebook());
    if (!target) return undefined;
    const nbDoc = vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === target.toString());
    if (nbDoc?.isDirty) await nbDoc.save();
    const python = await pythonInterpreter(target);
    const notebook = target.fsPath;
    let outDir = options.outDir ? path.resolve(path.dirname(notebook), options.outDir) : path.join(path.dirname(notebook), `${path.basename(notebook, '.ipynb')}_pipeline`);
    let split: SplitMode = options.split ?? 'headings';
    let plan = options.plan;
    this.log.info(`extracting ${notebook} with ${python.path} (from ${python.from})`);
    const ask = (p: ExtractPlanStep[] | undefined) =>
      vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Labbook: analysing ${path.basename(notebook)}` }, () =>
        this.client.request(ExtractPreviewRequest, { notebook, python: python.path, split, plan: p, outDir }),
      );
    let preview = await ask(plan);
    let verify = !!options.verify;

    if (!options.accept) {
      for (;;) {
        const choice = await this.showPreview(notebook, preview, outDir, split);
        if (!choice) return undefined;
        if (choice.action === 'write' || choice.action === 'verify') {
          verify = choice.action === 'verify';
          break;
        }
        if (choice.action === 'warnings') {
          this.log.info(`extract ${notebook}:\n${[...preview.warnings.map((w) => `warning: ${w}`), ...preview.notes.map((n) => `note: ${n}`)].join('\n')}`);
          this.log.show();
          continue;
        }
        if (choice.action === 'out') {
          const picked = await vscode.window.showInputBox({ title: 'Folder for the pipeline', value: outDir, validateInput: (v) => (v.trim() ? undefined : 'a folder path') });
          if (picked) outDir = path.resolve(path.dirname(notebook), picked.trim());
        } else if (choice.action === 'split') {
          const mode = await vscode.window.showQuickPick(
            [
              { label: 'headings', description: 'a step per markdown section (the level that gives a sensible number of steps)' },
              { label: 'tags', description: "cells tagged step:<name> start a step" },
              { label: 'cells', description: 'a step per code cell' },
            ],
            { title: 'Split the notebook by' },
          );
          if (!mode) continue;
          split = mode.label as SplitMode;
          plan = undefined;
        } else if (choice.action === 'step' && choice.index !== undefined) {
          const edited = await this.editStep(preview, choice.index, notebook);
          if (!edited) continue;
          plan = edited;
        }
        try {
          preview = await ask(plan);
        } catch (e) {
          void vscode.window.showErrorMessage((e as Error).message);
          plan = preview.steps.map((s) => ({ name: s.name, cells: s.cells }));
        }
      }
    }
    const files = preview.existing;
    let force = !!options.force;
    if (files.length && !force) {
      if (options.accept) throw new Error(`${outDir} already has ${files.join(', ')}: nothing written (pass force to replace them).`);
      const answer = await vscode.window.showWarningMessage(`${outDir} already has ${files.length} of the pipeline's files (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''}). Replace them?`, { modal: true }, 'Replace');
      if (answer !== 'Replace') return undefined;
      force = true;
    }
    const result = await this.client.request(ExtractWriteRequest, { notebook, python: python.path, plan: preview.steps.map((s) => ({ name: s.name, cells: s.cells })), outDir, force });
    this.log.info(`pipeline of ${notebook} written to ${result.outDir}: ${result.files.join(', ')}`);
    const open = async (a: string | undefined) => {
      if (a === 'Open pipeline.py') await vscode.window.showTextDocument(vscode.Uri.file(path.join(result.outDir, 'pipeline.py')));
      if (a === 'Show Log') this.log.show();
    };
    if (!verify) {
      void vscode.window.showInformationMessage(`Pipeline written: ${preview.steps.length} steps in ${vscode.workspace.asRelativePath(result.outDir)}.`, 'Open pipeline.py').then(open);
      return result;
    }
    const verdict = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Labbook: verifying the pipeline of ${path.basename(notebook)} (pipeline, then notebook, both tracked)` },
      () => this.client.request(ExtractVerifyRequest, { notebook, python: python.path, plan: preview.steps.map((s) => ({ name: s.name, cells: s.cells })), outDir: result.outDir }),
    );
    this.log.info(`verify ${notebook} (pipeline run ${verdict.pipelineRun}, notebook run ${verdict.notebookRun}):\n${verdict.steps.map((s) => `  ${s.ok ? 'ok  ' : 'FAIL'} ${s.name}: ${s.detail}`).join('\n')}`);
    const bad = verdict.steps.filter((s) => !s.ok);
    if (verdict.ok) void vscode.window.showInformationMessage(`Pipeline written and verified: all ${verdict.steps.length} steps match the notebook.`, 'Open pipeline.py').then(open);
    else void vscode.window.showWarningMessage(`Pipeline written, but ${bad.length} step(s) do not match the notebook: ${bad.map((s) => `${s.name} (${s.detail})`).join('; ')}`, 'Show Log', 'Open pipeline.py').then(open);
    return { ...result, verify: verdict };
  }

  /** Opens the notebook a generated step came from with its cells selected. */
  async showSourceCells(uri?: vscode.Uri): Promise<{ notebook: string; cells: number[] } | undefined> {
    const doc = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
    if (!doc) throw new Error('Open a step file (steps/<name>.py of an extracted pipeline) first.');
    const line = doc.getText().split('\n', 5).find((l) => l.startsWith('# labbook-step: '));
    if (!line) throw new Error(`${path.basename(doc.uri.fsPath)} is not a step Labbook extracted (no "# labbook-step:" line at its top).`);
    const meta = JSON.parse(line.slice('# labbook-step: '.length)) as { notebook: string; cells: number[]; ids: (string | null)[] };
    const nbUri = vscode.Uri.file(path.resolve(path.dirname(path.dirname(doc.uri.fsPath)), meta.notebook));
    const nb = await vscode.workspace.openNotebookDocument(nbUri);
    // Cells may have moved since the extraction: find them by id where the notebook keeps ids.
    const byId = new Map<string, number>();
    for (const c of nb.getCells()) {
      const id = (c.metadata as { id?: string; metadata?: { id?: string } })?.id;
      if (id) byId.set(id, c.index);
    }
    const cells = meta.cells.map((index, k) => (meta.ids[k] && byId.has(meta.ids[k]!) ? byId.get(meta.ids[k]!)! : index)).filter((i) => i < nb.cellCount);
    const ranges = cells.map((i) => new vscode.NotebookRange(i, i + 1));
    const editor = await vscode.window.showNotebookDocument(nb, { selections: ranges.length ? ranges : undefined });
    if (ranges.length) editor.revealRange(ranges[0], vscode.NotebookEditorRevealType.InCenterIfOutsideViewport);
    return { notebook: nbUri.fsPath, cells };
  }

  private async pickNotebook(): Promise<vscode.Uri | undefined> {
    const files = await vscode.workspace.findFiles('**/*.ipynb', '{**/node_modules/**,**/.labbook/**,**/.venv/**,**/.ipynb_checkpoints/**}', 500);
    const choice = await vscode.window.showQuickPick(
      files.map((f) => ({ label: vscode.workspace.asRelativePath(f), uri: f })),
      { title: 'Extract which notebook to a pipeline?', placeHolder: files.length ? undefined : 'No notebooks in this workspace' },
    );
    return choice?.uri;
  }

  private showPreview(notebook: string, p: ExtractPreviewResult, outDir: string, split: SplitMode): Thenable<Item | undefined> {
    const params = Object.entries(p.params).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    const items: Item[] = [
      { label: '$(check) Write the pipeline', description: vscode.workspace.asRelativePath(outDir), detail: p.existing.length ? `replaces ${p.existing.length} existing file(s)` : undefined, action: 'write' },
      { label: '$(beaker) Write and verify against the notebook', description: 'runs both, tracked, and compares them step by step', action: 'verify' },
      { label: '$(folder) Output folder…', description: vscode.workspace.asRelativePath(outDir), action: 'out' },
      { label: `$(list-tree) Split by ${split}…`, description: 'headings · tags · cells', action: 'split' },
      ...(p.warnings.length || p.notes.length ? [{ label: `$(warning) ${p.warnings.length} warning(s), ${p.notes.length} note(s)`, description: 'show in the Labbook log', action: 'warnings' as const }] : []),
      { label: `${p.steps.length} steps · params.yaml: ${params.join(', ') || 'none'}`, kind: vscode.QuickPickItemKind.Separator },
      ...p.steps.map((s, index) => ({
        label: `$(symbol-function) ${s.name}`,
        description: `cells ${s.cells.join(', ')}`,
        detail: `in: ${s.inputs.join(', ') || '—'}  →  out: ${s.outputs.join(', ') || '—'}${s.params.length ? `  · params: ${s.params.join(', ')}` : ''}`,
        action: 'step' as const,
        index,
      })),
    ];
    return vscode.window.showQuickPick(items, { title: `Extract ${path.basename(notebook)}: adjust the steps, then write`, placeHolder: 'Pick a step to rename, merge or split it', matchOnDescription: true, matchOnDetail: true });
  }

  /** The plan after one edit of step i, or undefined when the user backs out. */
  private async editStep(p: ExtractPreviewResult, i: number, notebook: string): Promise<ExtractPlanStep[] | undefined> {
    const plan = p.steps.map((s) => ({ name: s.name, cells: [...s.cells] }));
    const step = plan[i];
    const actions = [
      { label: '$(edit) Rename…', id: 'rename' },
      ...(i + 1 < plan.length ? [{ label: `$(arrow-down) Merge with the next step (${plan[i + 1].name})`, id: 'next' }] : []),
      ...(i > 0 ? [{ label: `$(arrow-up) Merge with the previous step (${plan[i - 1].name})`, id: 'previous' }] : []),
      ...(step.cells.length > 1 ? [{ label: '$(split-horizontal) Split before a cell…', id: 'split' }] : []),
      { label: '$(go-to-file) Show its cells in the notebook', id: 'show' },
    ];
    const action = await vscode.window.showQuickPick(actions, { title: `Step ${step.name}` });
    if (!action) return undefined;
    if (action.id === 'rename') {
      const name = await vscode.window.showInputBox({ title: `Rename step ${step.name}`, value: step.name, validateInput: (v) => renameProblem(plan, i, v) });
      return name && name !== step.name ? renameStep(plan, i, name) : undefined;
    }
    if (action.id === 'next') return mergeWithNext(plan, i);
    if (action.id === 'previous') return mergeWithNext(plan, i - 1);
    if (action.id === 'split') {
      const first = new Map(p.cells.map((c) => [c.index, c.firstLine]));
      const at = await vscode.window.showQuickPick(
        step.cells.slice(1).map((c) => ({ label: `cell ${c}`, description: first.get(c) ?? '', cell: c })),
        { title: `Split ${step.name}: the new step starts at` },
      );
      return at ? splitStep(plan, i, at.cell) : undefined;
    }
    const nb = await vscode.workspace.openNotebookDocument(vscode.Uri.file(notebook));
    const ranges = step.cells.filter((c) => c < nb.cellCount).map((c) => new vscode.NotebookRange(c, c + 1));
    await vscode.window.showNotebookDocument(nb, { selections: ranges, preview: false });
    return undefined;
  }
}

/** "Show source cells" above the function of a step Labbook generated. */
export class StepCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    if (doc.uri.scheme !== 'file' || !vscode.workspace.getConfiguration('labbook').get<boolean>('codeLens.enabled', true)) return [];
    const head = doc.getText(new vscode.Range(0, 0, 3, 0));
    if (!head.includes('# labbook-step: ')) return [];
    const def = doc.getText().split('\n').findIndex((l) => l.startsWith('def '));
    if (def < 0) return [];
    return [new vscode.CodeLens(new vscode.Range(def, 0, def, 0), { title: '$(notebook) Show source cells', command: 'labbook.showSourceCells', arguments: [doc.uri], tooltip: 'Open the notebook this step was extracted from, with its cells selected' })];
  }
}
