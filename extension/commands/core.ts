import * as vscode from 'vscode';
import type { ServerClient } from '../client/serverClient';
import type { Log } from '../util/log';
import type { RunsNode, RunsTreeProvider } from '../views/runsTree';
import type { SessionRecorder } from '../notebook/sessionRecorder';
import type { DiffCommandId } from './diff';
import type { ModelCommandId } from './models';
import type { TrainingCommandId } from './training';
import type { CommandFn } from './table';
import { type CommandId, type ViewCommandId, ViewIds } from './ids';
import type { RunCommandOptions, RunCommands } from './tracking';
import type { ExtractCommandOptions, ExtractCommands } from './extract';

export function coreCommands(deps: { client: ServerClient; runsTree: RunsTreeProvider; runs: RunCommands; sessions: SessionRecorder; extract: ExtractCommands; log: Log }): Record<Exclude<CommandId, DiffCommandId | ViewCommandId | TrainingCommandId | ModelCommandId>, CommandFn> {
  const { client, runsTree, runs, sessions, extract, log } = deps;
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
    'labbook.runScript': (uri?: unknown, options?: unknown) => runs.runScript(uri instanceof vscode.Uri ? uri : undefined, options as RunCommandOptions | undefined),
    'labbook.runNotebook': (uri?: unknown, options?: unknown) => runs.runNotebook(uri instanceof vscode.Uri ? uri : undefined, options as RunCommandOptions | undefined),
    'labbook.saveSnapshot': (uri?: unknown) => sessions.saveSnapshot(uri instanceof vscode.Uri ? uri : undefined),
    'labbook.extractNotebook': (uri?: unknown, options?: unknown) => extract.extract(uri instanceof vscode.Uri ? uri : undefined, (options ?? {}) as ExtractCommandOptions),
    'labbook.showSourceCells': (uri?: unknown) => extract.showSourceCells(uri instanceof vscode.Uri ? uri : undefined),
    // From the Runs tree the argument is the run's node; from the palette, nothing (pick one).
    'labbook.rerun': (node?: unknown) => runs.rerun((node as RunsNode | undefined)?.type === 'run' ? (node as Extract<RunsNode, { type: 'run' }>).run.id : typeof node === 'string' ? node : undefined),
  };
}
