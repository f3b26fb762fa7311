import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { ExtractWriteResult } from '../../../server/protocol/requests';
import { labbook, showRun, waitForServer, workspaceRoot } from './helpers';

export function registerExtractSuite(): void {
  describe('Extract Notebook to Pipeline', () => {
    before(async () => {
      const { api } = await labbook();
      await waitForServer(api, 'running');
    });

    const notebook = () => vscode.Uri.file(path.join(workspaceRoot(), 'iris.ipynb'));

    it('writes the proposed steps (preview accepted by the { accept: true } argument) and the generated files exist', async () => {
      const result = await vscode.commands.executeCommand<ExtractWriteResult>('labbook.extractNotebook', notebook(), { accept: true });
      assert.ok(result, 'the command returned what it wrote');
      assert.strictEqual(result.outDir, path.join(workspaceRoot(), 'iris_pipeline'));
      for (const f of ['pipeline.py', 'pipeline.yaml', 'params.yaml', 'common.py', 'steps/load_the_data.py', 'steps/train.py', 'steps/evaluate.py']) {
        assert.ok(fs.existsSync(path.join(result.outDir, f)), `${f} exists`);
      }
      assert.match(fs.readFileSync(path.join(result.outDir, 'params.yaml'), 'utf8'), /^n_trees: 50$/m);
      assert.match(fs.readFileSync(path.join(result.outDir, 'steps', 'train.py'), 'utf8'), /^def train\(X, y, n_trees, params\):/m);
    });

    it('does not replace existing files without force', async () => {
      const params = path.join(workspaceRoot(), 'iris_pipeline', 'params.yaml');
      fs.appendFileSync(params, '# kept\n');
      const again = await vscode.commands.executeCommand<ExtractWriteResult | undefined>('labbook.extractNotebook', notebook(), { accept: true });
      assert.strictEqual(again, undefined);
      assert.match(fs.readFileSync(params, 'utf8'), /# kept/);
    });

    it('the preview Quick Pick appears with the steps, and accepting its first item writes the pipeline', async () => {
      const running = vscode.commands.executeCommand<ExtractWriteResult | undefined>('labbook.extractNotebook', notebook(), { outDir: 'iris_ui' });
      let done: ExtractWriteResult | undefined | null = null;
      void running.then((r) => (done = r));
      // The preview shows once the server has analysed the notebook; its first item is "Write the pipeline".
      const deadline = Date.now() + 60_000;
      while (done === null && Date.now() < deadline) {
        await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
        await new Promise((r) => setTimeout(r, 250));
      }
      const result = await running;
      assert.ok(result, 'the pipeline was written from the preview');
      assert.ok(fs.existsSync(path.join(workspaceRoot(), 'iris_ui', 'steps', 'train.py')));
    });

    it('{ verify: true } runs the pipeline and the notebook as tracked runs and every step matches', async () => {
      const result = await vscode.commands.executeCommand<ExtractWriteResult & { verify?: { ok: boolean; pipelineRun: string; steps: { name: string; ok: boolean; detail: string }[] } }>(
        'labbook.extractNotebook',
        notebook(),
        { accept: true, outDir: 'iris_verified', verify: true },
      );
      assert.ok(result?.verify, 'the command returned the verdict');
      assert.strictEqual(result.verify.ok, true, JSON.stringify(result.verify.steps));
      assert.deepStrictEqual(result.verify.steps.map((s) => s.name), ['parameters', 'load_the_data', 'clean_and_engineer_features', 'train', 'evaluate']);
      const { ext } = await labbook();
      const run = showRun(ext, result.verify.pipelineRun) as unknown as { kind: string; status: string };
      assert.strictEqual(run.kind, 'pipeline');
      assert.strictEqual(run.status, 'finished');
    });

    it('Show Source Cells (the code lens on a step) opens the notebook with the step\'s cells selected', async () => {
      const step = vscode.Uri.file(path.join(workspaceRoot(), 'iris_pipeline', 'steps', 'train.py'));
      const doc = await vscode.workspace.openTextDocument(step);
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
      const lens = lenses.find((l) => l.command?.command === 'labbook.showSourceCells');
      assert.ok(lens?.command, 'a Show source cells lens');
      assert.strictEqual(doc.lineAt(lens.range.start.line).text.startsWith('def train('), true);
      const shown = await vscode.commands.executeCommand<{ notebook: string; cells: number[] }>(lens.command.command, ...(lens.command.arguments ?? []));
      assert.ok(shown);
      const meta = JSON.parse(fs.readFileSync(step.fsPath, 'utf8').split('\n')[1].replace('# labbook-step: ', '')) as { cells: number[] };
      assert.deepStrictEqual(shown.cells, meta.cells);
      const editor = vscode.window.activeNotebookEditor;
      assert.ok(editor, 'a notebook editor is active');
      assert.strictEqual(editor.notebook.uri.fsPath, notebook().fsPath);
      assert.deepStrictEqual(editor.selections.map((r) => r.start), meta.cells);
    });
  });
}
