import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { LabbookApi } from '../../../extension/api';
import { labbook, topLabels, waitForServer } from './helpers';

async function setRuntime(value: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration().update('labbook.server.runtime', value, vscode.ConfigurationTarget.Workspace);
}

export function registerFailureSuite(): void {
  describe('Labbook when the server cannot start', () => {
    let api: LabbookApi;
    let ext: vscode.Extension<LabbookApi>;
    before(async () => {
      ({ api, ext } = await labbook());
      await waitForServer(api, 'running');
    });
    after(async () => {
      await setRuntime(undefined);
      await vscode.commands.executeCommand('labbook.restartServer');
    });

    it('a runtime path that does not exist: one clear message naming the setting', async () => {
      await setRuntime('/nonexistent/bin/node');
      await vscode.commands.executeCommand('labbook.restartServer');
      assert.strictEqual(api.server.state, 'failed');
      const msg = api.server.lastError ?? '';
      assert.match(msg, /labbook\.server\.runtime/);
      assert.match(msg, /Fix:/);
      assert.doesNotMatch(msg, /\n\s+at /, 'no stack trace in the message');
      assert.deepStrictEqual(await topLabels(api), [], 'the tree is empty, not broken');
      assert.match(api.runsTree.view?.message ?? '', /not running/);
    });

    it('a runtime whose ABI does not match the SQLite addon is refused with the reason', async () => {
      // The extension host's own Node (code-server's) is a different major than the one that built the addon.
      await setRuntime(process.execPath);
      await vscode.commands.executeCommand('labbook.restartServer');
      const abi = JSON.parse(fs.readFileSync(path.join(ext.extensionPath, 'dist', 'native', 'abi.json'), 'utf8')) as { modules: string };
      if (process.versions.modules === abi.modules) {
        assert.strictEqual(api.server.state, 'running');
        return;
      }
      assert.strictEqual(api.server.state, 'failed');
      assert.match(api.server.lastError ?? '', /Node ABI \d+/);
    });

    it('clearing the setting and restarting brings the server back', async () => {
      await setRuntime(undefined);
      await vscode.commands.executeCommand('labbook.restartServer');
      assert.strictEqual(api.server.state, 'running');
      assert.strictEqual((await topLabels(api)).length, 4);
    });
  });
}
