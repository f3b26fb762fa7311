import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { LabbookApi } from '../../../extension/api';
import type { DiffPanel } from '../../../extension/panels/diffPanel';
import { pairs } from '../../fixtures/diffPairs';
import { labbook, waitForEvent, waitForServer, workspaceRoot } from './helpers';

export function registerDiffSuite(): void {
  describe('Notebook diff in VS Code', () => {
    let api: LabbookApi;
    let repo: string;
    before(async () => {
      ({ api } = await labbook());
      await waitForServer(api, 'running');
      // A notebook under git: committed as the 'edit' pair's left side, edited to its right side.
      repo = path.join(workspaceRoot(), 'gitnb');
      fs.mkdirSync(repo, { recursive: true });
      const edit = pairs().find((p) => p.name === 'edit')!;
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Labbook Test', '-c', 'user.email=test@example.com', ...args], { cwd: repo, stdio: 'pipe' });
      git('init', '-q');
      fs.writeFileSync(path.join(repo, 'model.ipynb'), JSON.stringify(edit.a, null, 1));
      git('add', 'model.ipynb');
      git('commit', '-qm', 'baseline');
      fs.writeFileSync(path.join(repo, 'model.ipynb'), JSON.stringify(edit.b, null, 1));
    });

    async function ready(panel: DiffPanel): Promise<void> {
      if (!panel.isReady) await waitForEvent(panel.onDidBecomeReady, () => true, 'the diff webview to post ready');
    }

    it('Diff Notebook with HEAD opens a diff tab whose page loads and gets the cell diff', async () => {
      const uri = vscode.Uri.file(path.join(repo, 'model.ipynb'));
      const panel = await vscode.commands.executeCommand<DiffPanel | undefined>('labbook.diffWithHead', uri);
      assert.ok(panel, 'a diff panel opened');
      await ready(panel);
      assert.strictEqual(api.diffPanels.last, panel);
      assert.strictEqual(panel.panel.title, 'gitnb/model.ipynb (HEAD ↔ working tree)');
      const diff = panel.model!.notebooks[0].diff;
      assert.deepStrictEqual(diff.summary, { added: 0, removed: 0, modified: 1, moved: 0, unchanged: 7 });
      const cell = diff.cells.find((c) => c.op === 'modified')!;
      assert.ok(cell.lines?.some((l) => l.op === '+' && l.text.includes('C=0.5')), JSON.stringify(cell.lines));
      panel.panel.dispose();
    });

    it('Diff Two Notebooks takes the two files selected in the explorer', async () => {
      const dir = path.join(workspaceRoot(), 'pairs');
      fs.mkdirSync(dir, { recursive: true });
      const move = pairs().find((p) => p.name === 'move')!;
      fs.writeFileSync(path.join(dir, 'before.ipynb'), JSON.stringify(move.a));
      fs.writeFileSync(path.join(dir, 'after.ipynb'), JSON.stringify(move.b));
      const a = vscode.Uri.file(path.join(dir, 'before.ipynb'));
      const b = vscode.Uri.file(path.join(dir, 'after.ipynb'));
      const panel = await vscode.commands.executeCommand<DiffPanel | undefined>('labbook.diffNotebooks', a, [a, b]);
      assert.ok(panel);
      await ready(panel);
      assert.strictEqual(panel.model!.notebooks[0].diff.summary.moved, 1);
      panel.panel.dispose();
    });

    it('a notebook outside git gets a clear error and no panel', async () => {
      const lonely = path.join(workspaceRoot(), 'pairs', 'before.ipynb');
      const before = api.diffPanels.last;
      const panel = await vscode.commands.executeCommand<DiffPanel | undefined>('labbook.diffWithRevision', vscode.Uri.file(lonely), 'HEAD');
      assert.strictEqual(panel, undefined);
      assert.strictEqual(api.diffPanels.last, before);
    });
  });
}
