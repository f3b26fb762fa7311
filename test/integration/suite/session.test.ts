import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { LabbookApi } from '../../../extension/api';
import { labbook, showRun, waitForEvent, waitForServer, workspaceRoot } from './helpers';

export function registerSessionSuite(): void {
  describe('Labbook in the notebook editor', () => {
    let api: LabbookApi;
    let ext: vscode.Extension<LabbookApi>;
    let controller: vscode.NotebookController;
    before(async () => {
      ({ api, ext } = await labbook());
      await waitForServer(api, 'running');
      // A minimal kernel of our own: the recorder must work with any kernel VS Code runs.
      controller = vscode.notebooks.createNotebookController('labbook-test-kernel', 'jupyter-notebook', 'Labbook test kernel');
      let order = 0;
      controller.supportedLanguages = ['python'];
      controller.executeHandler = async (cells) => {
        for (const cell of cells) {
          const run = controller.createNotebookCellExecution(cell);
          run.executionOrder = ++order;
          run.start(Date.now());
          await run.replaceOutput([new vscode.NotebookCellOutput([vscode.NotebookCellOutputItem.text(`ran ${cell.index}`)])]);
          run.end(true, Date.now() + 3);
        }
      };
    });
    after(() => controller.dispose());

    it('records each cell run in a session run, flags hidden state on the cells, and offers a clean run', async () => {
      const uri = vscode.Uri.file(path.join(workspaceRoot(), 'live.ipynb'));
      const nb = await vscode.workspace.openNotebookDocument(uri);
      await vscode.window.showNotebookDocument(nb);
      controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
      await vscode.commands.executeCommand('notebook.selectKernel', { id: 'labbook-test-kernel', extension: ext.id });

      const runCell = async (index: number) => {
        const recorded = waitForEvent(api.sessions.onDidRecord, (e) => e.notebook.toString() === uri.toString(), `cell ${index} to be recorded`);
        await vscode.commands.executeCommand('notebook.cell.execute', { ranges: [{ start: index, end: index + 1 }], document: uri });
        return (await recorded).runId;
      };
      // Out of order: the second cell first, then the first one; then edit the first.
      const runId = await runCell(1);
      assert.strictEqual(await runCell(0), runId, 'one session run per notebook');
      const checked = waitForEvent(api.sessions.onDidCheck, (e) => e.problems.some((p) => p.kind === 'edited-after-run'), 'a check after the edit');
      const edit = new vscode.WorkspaceEdit();
      edit.replace(nb.cellAt(0).document.uri, new vscode.Range(0, 0, 0, 5), 'x = 2');
      assert.ok(await vscode.workspace.applyEdit(edit));
      const { problems } = await checked;
      assert.deepStrictEqual(
        problems.map((p) => [p.cell, p.kind]),
        [
          [0, 'edited-after-run'],
          [1, 'out-of-order'],
          [2, 'undefined-name'],
        ],
      );
      const diags = vscode.languages.getDiagnostics(nb.cellAt(1).document.uri).filter((d) => d.source === 'labbook');
      assert.strictEqual(diags.length, 1);
      assert.match(diags[0].message, /^Hidden state: ran as \[1\], before cell 0 above it ran as \[2\]/);
      const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', nb.cellAt(1).document.uri, new vscode.Range(0, 0, 0, 1));
      const fix = actions.find((a) => a.title === 'Run All Cleanly with Tracking');
      assert.ok(fix?.command, 'a quick fix runs the notebook cleanly');
      assert.strictEqual(fix.command.command, 'labbook.runNotebook');

      const snap = await vscode.commands.executeCommand<{ runId: string; artifact: string }>('labbook.saveSnapshot', uri);
      assert.strictEqual(snap?.runId, runId);
      const run = showRun(ext, runId);
      assert.strictEqual(run.kind, 'session');
      assert.strictEqual(run.status, 'running');
      assert.deepStrictEqual(run.tags, ['hidden-state']);
      assert.deepStrictEqual(run.executions?.map((e) => [e.cellIndex, e.executionCount, e.success]), [
        [1, 1, true],
        [0, 2, true],
      ]);
      assert.ok(run.artifacts.some((a) => a.kind === 'snapshot' && a.path === snap.artifact));
    });

    it('the clean run fixes it: the quick fix’s command runs the notebook top to bottom with tracking', async () => {
      const uri = vscode.Uri.file(path.join(workspaceRoot(), 'analysis.ipynb'));
      const ended = await vscode.commands.executeCommand<{ status: string }>('labbook.runNotebook', uri, { overrides: {} });
      assert.strictEqual(ended?.status, 'finished');
    });
  });
}
