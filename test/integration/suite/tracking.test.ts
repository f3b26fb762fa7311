import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import type { LabbookApi } from '../../../extension/api';
import type { RunEndedParams } from '../../../server/protocol/requests';
import { labbook, showRun, waitForServer, workspaceRoot } from './helpers';

export function registerTrackingSuite(): void {
  describe('Labbook runs from VS Code', () => {
    let api: LabbookApi;
    let ext: vscode.Extension<LabbookApi>;
    before(async () => {
      ({ api, ext } = await labbook());
      await waitForServer(api, 'running');
    });

    async function childrenOf(name: string): Promise<Map<string, string>> {
      const nodes = await api.runsTree.runNodes();
      const node = nodes.find((n) => api.runsTree.getTreeItem(n).label === name);
      assert.ok(node, `run '${name}' is in the Runs tree: ${nodes.map((n) => api.runsTree.getTreeItem(n).label).join(', ')}`);
      const kids = await api.runsTree.getChildren(node);
      return new Map(kids.map((k) => [String(api.runsTree.getTreeItem(k).label), String(api.runsTree.getTreeItem(k).description)]));
    }

    it('Run Notebook with Tracking: a real kernel runs it; the run appears with its injected parameter', async () => {
      const nb = vscode.Uri.file(path.join(workspaceRoot(), 'analysis.ipynb'));
      const ended = await vscode.commands.executeCommand<RunEndedParams>('labbook.runNotebook', nb, { overrides: { alpha: '0.5' } });
      assert.ok(ended, 'the command returned the run');
      assert.strictEqual(ended.status, 'finished', JSON.stringify(ended));
      const details = await childrenOf('analysis');
      assert.strictEqual(details.get('alpha'), '0.5  (injected)');
      assert.strictEqual(details.get('n'), '10  (notebook-parameters)');
      // the notebook logs score = alpha * n
      assert.strictEqual(details.get('score'), '5 @0');
    });

    it('the "Run & track" code lens runs a script with tracking', async () => {
      const script = vscode.Uri.file(path.join(workspaceRoot(), 'train.py'));
      const doc = await vscode.workspace.openTextDocument(script);
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
      const lens = lenses.find((l) => l.command?.command === 'labbook.runScript');
      assert.ok(lens?.command, 'a Run & track lens');
      assert.match(lens.command.title, /Run & track/);
      const ended = await vscode.commands.executeCommand<RunEndedParams>(lens.command.command, ...(lens.command.arguments ?? []), { overrides: { lr: '0.2' } });
      assert.strictEqual(ended?.status, 'finished', JSON.stringify(ended));
      const details = await childrenOf('train');
      assert.strictEqual(details.get('lr'), '0.2  (override)');
      assert.strictEqual(details.get('loss'), '0.8 @1');
      // labbook.tracking.dataInputs declares data/*.csv: hashed although the script never reads it.
      const inputs = showRun(ext, ended.runId).inputs;
      assert.deepStrictEqual(inputs.map((i) => [i.path, i.declared, !!i.sha256]), [['data/extra.csv', true, true]]);
    });

    it('Re-run from the Runs tree reproduces the run as its child', async () => {
      const nodes = await api.runsTree.runNodes();
      const train = nodes.find((n) => api.runsTree.getTreeItem(n).label === 'train')!;
      assert.match(String(api.runsTree.getTreeItem(train).contextValue), /^labbook\.run\./, 'the context menu applies');
      const ended = await vscode.commands.executeCommand<RunEndedParams>('labbook.rerun', train);
      assert.strictEqual(ended?.status, 'finished', JSON.stringify(ended));
      assert.strictEqual(ended.verdict?.reproduced, true, JSON.stringify(ended.verdict));
      const kids = await api.runsTree.getChildren(train);
      assert.ok(kids.some((k) => k.type === 'run' && k.run.id === ended.runId), 'the rerun is listed under the original');
    });
  });
}
