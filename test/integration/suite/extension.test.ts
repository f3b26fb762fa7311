import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { LabbookApi } from '../../../extension/api';
import { alive, holders, labbook, seedFromOutside, serverChildren, topLabels, waitForEvent, waitForServer, workspaceRoot } from './helpers';

let api: LabbookApi;
let ext: vscode.Extension<LabbookApi>;

export function registerExtensionSuite(): void {
  describe('Labbook in a real VS Code host', () => {
    before(async () => {
      ({ api, ext } = await labbook());
      await waitForServer(api, 'running');
    });

    it('starts the server on a Node runtime that can load its SQLite addon', async () => {
      const info = await api.server.info();
      const abi = JSON.parse(fs.readFileSync(path.join(ext.extensionPath, 'dist', 'native', 'abi.json'), 'utf8')) as { modules: string };
      assert.strictEqual(info.runtime.abi, abi.modules, 'server runs on the ABI the addon was built for');
      assert.ok(info.runtime.pid > 0 && info.runtime.pid !== process.pid, 'server is its own process');
      assert.strictEqual(info.store.exists, true);
      assert.strictEqual(info.store.storePath, path.join(workspaceRoot(), '.labbook', 'labbook.db'));
      assert.strictEqual(info.store.runCount, 3);
      assert.strictEqual(info.store.problem, null);
      console.log(`      (activate took ${api.activationMs} ms; server pid ${info.runtime.pid}, Node ${info.runtime.node})`);
    });

    it('registers every command it contributes', async () => {
      const pkg = ext.packageJSON as { contributes: { commands: { command: string; category: string }[] } };
      const registered = new Set(await vscode.commands.getCommands(true));
      for (const c of pkg.contributes.commands) {
        assert.ok(registered.has(c.command), `${c.command} is registered`);
        assert.strictEqual(c.category, 'Labbook');
      }
    });

    it('shows the seeded runs in the Runs tree, grouped by experiment, newest first, with key metric and age', async () => {
      const groups = await api.runsTree.getChildren();
      assert.deepStrictEqual(groups.map((g) => [api.runsTree.getTreeItem(g).label, api.runsTree.getTreeItem(g).description]), [['digits', '3 runs']]);
      const nodes = await api.runsTree.getChildren(groups[0]);
      const items = nodes.map((n) => api.runsTree.getTreeItem(n));
      assert.deepStrictEqual(items.map((i) => i.label), ['train-lr0.01', 'train-lr0.03', 'train-lr0.1']);
      // accuracy at the last step of the seeded curve for lr=0.01: 1 − (2.3·e^(−2) + 0.15)/2.5
      const acc = Number((1 - (2.3 * Math.exp(-2) + 0.15) / 2.5).toPrecision(5));
      assert.match(String(items[0].description), new RegExp(`^accuracy ${String(acc).replace('.', '\\.')} · (\\d+d ago|2026-11-01)$`));
      assert.strictEqual(String(items[0].contextValue), 'labbook.run.finished');
    });

    it('expands a run into its parameters and latest metrics', async () => {
      const [first] = await api.runsTree.runNodes();
      const children = await api.runsTree.getChildren(first);
      const byLabel = new Map(children.map((c) => [String(api.runsTree.getTreeItem(c).label), String(api.runsTree.getTreeItem(c).description)]));
      assert.strictEqual(byLabel.get('lr'), '0.01  (cli)');
      assert.strictEqual(byLabel.get('epochs'), '20  (cli)');
      // loss at the last step (19) of the seeded curve for lr=0.01, run 3: 2.3·e^(−0.1·20) + 0.15
      assert.strictEqual(byLabel.get('loss'), `${Number((2.3 * Math.exp(-2) + 0.15).toPrecision(5))} @19`);
    });

    it('refreshes on its own when another process records a run', async () => {
      const changed = waitForEvent(api.runsTree.onDidChangeTreeData, () => true, 'a tree refresh after an outside write');
      const [id] = seedFromOutside(ext, ['--runs', '1', '--name', 'terminal']);
      await changed;
      const labels = await topLabels(api);
      assert.ok(labels.includes('terminal-lr0.1'), `new run ${id} appears: ${labels.join(', ')}`);
    });

    it('Refresh re-reads the store', async () => {
      const loaded = waitForEvent(api.runsTree.onDidLoad, () => true, 'the tree to reload');
      await vscode.commands.executeCommand('labbook.refresh');
      await vscode.commands.executeCommand('labbook.showRuns');
      const runs = await loaded;
      assert.strictEqual(runs.length, 4);
      assert.ok(api.runsTree.view?.visible, 'Show Runs made the Runs view visible');
    });

    it('loads the Compare view, whose script runs under the nonce CSP', async () => {
      const ready = api.compareView.isReady ? Promise.resolve() : waitForEvent(api.compareView.onDidBecomeReady, () => true, 'the Compare webview to post ready');
      await vscode.commands.executeCommand('labbook.views.compare.focus');
      await ready;
      assert.ok(api.compareView.isReady);
    });

    it('Show Log runs', async () => {
      await vscode.commands.executeCommand('labbook.showLog');
    });

    it('Restart Server replaces the server process and keeps serving', async () => {
      const before = api.server.pid;
      assert.ok(before && alive(before));
      await vscode.commands.executeCommand('labbook.restartServer');
      assert.strictEqual(api.server.state, 'running');
      const after = api.server.pid;
      assert.ok(after && after !== before, `new pid ${after} after ${before}`);
      assert.ok(!alive(before), 'the old server exited');
      assert.strictEqual((await topLabels(api)).length, 4);
    });

    it('restarts a server that was killed from outside, without starting a second one', async () => {
      const victim = api.server.pid!;
      const restarting = waitForEvent(api.server.onDidChangeState, (s) => s === 'starting', 'the client to notice the crash');
      process.kill(victim, 'SIGKILL');
      await restarting;
      // A view asking for data while the client restarts itself waits for it (and starts nothing).
      const labels = await topLabels(api);
      assert.strictEqual(api.server.state, 'running');
      assert.strictEqual(labels.length, 4);
      assert.notStrictEqual(api.server.pid, victim);
      assert.deepStrictEqual(serverChildren(), [api.server.pid], 'exactly one server process');
      assert.strictEqual((await api.server.info()).store.runCount, 4);
    });
  });
}

export function registerDeactivateSuite(): void {
  describe('Labbook deactivation', () => {
    it('stops the server and leaves the store closed cleanly', async () => {
      const { api: a, ext: e } = await labbook();
      await waitForServer(a, 'running');
      const pid = a.server.pid!;
      // The host loads the extension through Node's module cache: this is the same module instance.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const main = require(path.join(e.extensionPath, 'dist', 'extension.js')) as { deactivate(): Promise<void> };
      const t0 = Date.now();
      await main.deactivate();
      console.log(`      (deactivate took ${Date.now() - t0} ms)`);
      assert.ok(!alive(pid), 'server process exited');
      // SQLite removes the -wal file when the last connection closes cleanly.
      // Notebook sessions still open end as finished, not left running.
      const list = JSON.parse(
        execFileSync(process.env.LABBOOK_TEST_NODE || 'node', [path.join(e.extensionPath, 'dist', 'cli.js'), 'runs', '--json', '-C', workspaceRoot()], { encoding: 'utf8' }),
      ) as { runs: { kind: string; status: string }[] };
      const sessions = list.runs.filter((r) => r.kind === 'session');
      assert.ok(sessions.length > 0 && sessions.every((r) => r.status === 'finished'), JSON.stringify(sessions));
      const wal = path.join(workspaceRoot(), '.labbook', 'labbook.db-wal');
      assert.ok(!fs.existsSync(wal), `no -wal file left behind; open by: ${holders(path.join(workspaceRoot(), '.labbook', 'labbook.db')).join('; ')}`);
    });
  });
}
