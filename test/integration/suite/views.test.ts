import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';
import * as vscode from 'vscode';
import type { LabbookApi } from '../../../extension/api';
import { labbook, seedFromOutside, waitForEvent, waitForServer, workspaceRoot } from './helpers';

export function registerViewsSuite(): void {
  describe('Labbook views in a real VS Code host', () => {
    let api: LabbookApi;
    let ext: vscode.Extension<LabbookApi>;
    before(async () => {
      ({ api, ext } = await labbook());
      await waitForServer(api, 'running');
    });

    it('two runs selected in the Runs tree → Compare: the Compare view receives and draws both', async () => {
      const nodes = (await api.runsTree.runNodes()).filter((n) => n.run.name.startsWith('train-lr'));
      const [a, b] = nodes;
      assert.ok(a && b, 'two seeded runs in the tree');
      // Reveal and select the first in the real tree view; a multi-selection reaches the command
      // as (clicked node, selected nodes), which is how VS Code's context menu calls it.
      await api.runsTree.view!.reveal(a, { select: true, focus: true });
      const rendered = waitForEvent(api.compare.onDidRender, (r) => r.where === 'view' && r.runIds.length === 2, 'the Compare view to draw the two runs');
      await vscode.commands.executeCommand('labbook.compareRuns', a, [a, b]);
      const r = await rendered;
      assert.deepStrictEqual(r.runIds, [a.run.id, b.run.id]);
      assert.ok(r.charts >= 2, `curves and scatter drawn (${r.charts} charts)`);
      assert.strictEqual(r.points, 40, 'both runs\' 20-step curves were drawn');
      console.log(`      (Compare view drew ${r.runIds.length} runs in ${r.ms.toFixed(0)} ms)`);
    });

    it('Open Comparison in Editor shows the same runs in an editor tab', async () => {
      const [a, b, c] = await api.runsTree.runNodes();
      const rendered = waitForEvent(api.compare.onDidRender, (r) => r.where === 'editor', 'the editor tab to draw');
      await vscode.commands.executeCommand('labbook.openCompareInEditor', a, [a, b, c]);
      assert.deepStrictEqual((await rendered).runIds, [a.run.id, b.run.id, c.run.id]);
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    it('filters and sorts the Runs tree', async () => {
      let loaded = waitForEvent(api.runsTree.onDidLoad, () => true, 'the filtered tree');
      await vscode.commands.executeCommand('labbook.filterRuns', 'lr=0.03');
      const filtered = await loaded;
      assert.deepStrictEqual(filtered.map((r) => r.name), ['train-lr0.03']);
      assert.match(api.runsTree.view?.message ?? '', /Filter: lr=0\.03 — 1 run match/);
      loaded = waitForEvent(api.runsTree.onDidLoad, () => true, 'the unfiltered tree');
      await vscode.commands.executeCommand('labbook.clearRunsFilter');
      assert.ok((await loaded).length > 1);
      loaded = waitForEvent(api.runsTree.onDidLoad, () => true, 'the tree sorted by name');
      await vscode.commands.executeCommand('labbook.sortRuns', 'name');
      const byName = (await loaded).map((r) => r.name.toLowerCase());
      assert.deepStrictEqual(byName, [...byName].sort());
      loaded = waitForEvent(api.runsTree.onDidLoad, () => true, 'the tree newest first');
      await vscode.commands.executeCommand('labbook.sortRuns', 'started-desc');
      await loaded;
    });

    it('Show Confusion Matrix draws a run\'s evaluation; runs with one are marked in the tree', async () => {
      const seeded = JSON.parse(seedFromOutside(ext, ['--views'])[0]) as { cnnA: string; cnnB: string; mlp: string };
      const loaded = waitForEvent(api.runsTree.onDidLoad, (runs) => runs.some((r) => r.id === seeded.cnnB), 'the new runs in the tree');
      api.runsTree.refresh();
      await api.runsTree.getChildren();
      const runs = await loaded;
      const cnn = (await api.runsTree.runNodes()).find((n) => n.run.id === seeded.cnnB)!;
      assert.strictEqual(api.runsTree.getTreeItem(cnn).contextValue, 'labbook.run.finished.evaluated');
      assert.ok(runs.find((r) => r.id === seeded.mlp && !r.evaluated));
      const rendered = waitForEvent(api.confusion.onDidRender, (r) => r.runId === seeded.cnnB, 'the confusion matrix to draw');
      await vscode.commands.executeCommand('labbook.showConfusionMatrix', cnn);
      assert.deepStrictEqual(await rendered, { runId: seeded.cnnB, epoch: 5, mode: 'counts' });
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });

    it('Show Live Training follows a running run: its curves arrive, then the points it logs next', async () => {
      // A run "running" in this workspace, owned by this (alive) host process, logging like a training job.
      const seeded = JSON.parse(seedFromOutside(ext, ['--views', '--running-pid', String(process.pid)])[0]) as { running: string };
      let rendered = waitForEvent(api.live.onDidRender, (r) => r.runId === seeded.running && r.points === 80, 'the live view to draw the 80 points logged so far');
      await vscode.commands.executeCommand('labbook.showLiveTraining', seeded.running);
      await rendered;
      rendered = waitForEvent(api.live.onDidRender, (r) => r.runId === seeded.running && r.points === 90, 'the 10 points logged next', 15_000);
      logFromOutside(ext, seeded.running, 'loss', 40, 10);
      await rendered;
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    });
  });
}

/** Logs `n` points of a metric into a run from another process (as a training job would). */
function logFromOutside(ext: vscode.Extension<unknown>, runId: string, key: string, from: number, n: number): void {
  const script = `const { Store } = require(${JSON.stringify(path.join(ext.extensionPath, 'out', 'test', 'fixtures', 'storeApi.js'))});
const s = Store.open(${JSON.stringify(workspaceRoot())});
s.logMetrics(${JSON.stringify(runId)}, Array.from({ length: ${n} }, (_, i) => ({ key: ${JSON.stringify(key)}, value: 1 / (${from} + i + 1), step: ${from} + i, wallTime: Date.now() })));
s.close();`;
  execFileSync(process.env.LABBOOK_TEST_NODE || 'node', ['-e', script]);
}
