import * as vscode from 'vscode';
import type { ServerClient } from '../client/serverClient';
import type { Log } from '../util/log';
import type { RunsTreeProvider } from '../views/runsTree';
import { type CommandTable } from './table';
import { ViewIds } from './ids';

export function coreCommands(deps: { client: ServerClient; runsTree: RunsTreeProvider; log: Log }): CommandTable {
  const { client, runsTree, log } = deps;
  return {
    'labbook.showRuns': async () => {
      await vscode.commands.executeCommand(`workbench.view.extension.${ViewIds.container}`);
      await vscode.commands.executeCommand(`${ViewIds.runs}.focus`);
    },
    'labbook.refresh': () => runsTree.refresh(),
    'labbook.showLog': () => log.show(),
    'labbook.restartServer': async () => {
      log.info('restarting the server on request');
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Restarting the Labbook server' }, () => client.restart());
      runsTree.refresh();
    },
  };
}
