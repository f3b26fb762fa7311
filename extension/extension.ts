/**
 * Activation is wiring only: create the log, the server client, the views and the commands,
 * then start the server without waiting for it. No SQLite, no TensorFlow.js on this side.
 */
import * as vscode from 'vscode';
import { RunsChangedNotification, ServerInfoRequest, WorkspaceTrustedNotification } from '../server/protocol/requests';
import type { LabbookApi } from './api';
import { ServerClient } from './client/serverClient';
import { coreCommands } from './commands/core';
import { DiffCommands } from './commands/diff';
import { ViewIds } from './commands/ids';
import { registerCommands } from './commands/table';
import { RunCodeLens, RunCommands } from './commands/tracking';
import { viewCommands } from './commands/views';
import { CompareService } from './panels/comparePanel';
import { ConfusionPanels } from './panels/confusionPanel';
import { LivePanels } from './panels/livePanel';
import { ExtractCommands, StepCodeLens } from './commands/extract';
import { ModelCommands } from './commands/models';
import { TrainingCommands } from './commands/training';
import { SessionRecorder } from './notebook/sessionRecorder';
import { DiffPanels } from './panels/diffPanel';
import { DisposableStore } from './util/dispose';
import { Log } from './util/log';
import { CompareViewProvider } from './views/compareView';
import { ReportDocuments } from './views/reports';
import { RunsTreeProvider } from './views/runsTree';

let owned: DisposableStore | undefined;
let serverClient: ServerClient | undefined;

export function activate(context: vscode.ExtensionContext): LabbookApi {
  const t0 = Date.now();
  const disposables = new DisposableStore();
  owned = disposables;
  const log = disposables.add(new Log());
  const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
  const client = new ServerClient(context.extensionPath, folder?.uri.fsPath ?? null, log);
  serverClient = client;

  const runsTree = disposables.add(new RunsTreeProvider(client, log, context.workspaceState));
  const runsView = disposables.add(vscode.window.createTreeView(ViewIds.runs, { treeDataProvider: runsTree, showCollapseAll: true, canSelectMany: true }));
  runsTree.view = runsView;
  const compare = disposables.add(new CompareService(context.extensionUri, client, log));
  const compareView = disposables.add(new CompareViewProvider(compare));
  disposables.add(vscode.window.registerWebviewViewProvider(ViewIds.compare, compareView));
  const confusion = disposables.add(new ConfusionPanels(context.extensionUri, client, log));
  const live = disposables.add(new LivePanels(context.extensionUri, client, log));

  const runs = disposables.add(new RunCommands(client, log));
  const sessions = disposables.add(new SessionRecorder(client, log));
  const diffPanels = disposables.add(new DiffPanels(context.extensionUri, client, log));
  const diff = new DiffCommands(client, diffPanels);
  const training = disposables.add(new TrainingCommands(client, log));
  const models = disposables.add(new ModelCommands(client, disposables.add(new ReportDocuments())));
  const commands = { ...training.table(), ...models.table(), ...coreCommands({ client, runsTree, runs, sessions, extract: new ExtractCommands(client, log), log }), ...viewCommands({ client, runsTree, compare, confusion, live }), ...diff.table() };
  for (const d of registerCommands(commands, log)) disposables.add(d);
  disposables.add(vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file' }, new RunCodeLens()));
  disposables.add(vscode.languages.registerCodeLensProvider({ language: 'python', scheme: 'file', pattern: '**/steps/*.py' }, new StepCodeLens()));
  disposables.add(vscode.workspace.onDidGrantWorkspaceTrust(() => void client.notify(WorkspaceTrustedNotification, {})));
  disposables.add(vscode.commands.registerCommand('labbook.runs.showMore', () => runsTree.showMore()));

  client.onNotification(RunsChangedNotification, () => {
    runsTree.refresh();
    compare.runsChanged();
    live.runsChanged();
  });
  disposables.add(client.onDidChangeState(() => runsTree.refresh()));
  disposables.add(
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('labbook.server.runtime')) {
        void vscode.window.showInformationMessage('Labbook: the server runtime changed.', 'Restart Server').then((c) => {
          if (c) void vscode.commands.executeCommand('labbook.restartServer');
        });
      }
    }),
  );

  void client.start();
  const activationMs = Date.now() - t0;
  log.info(`Labbook activated in ${activationMs} ms${folder ? ` for ${folder.uri.fsPath}` : ' (no folder open)'}`);

  return {
    activationMs,
    server: {
      get state() {
        return client.state;
      },
      onDidChangeState: client.onDidChangeState,
      get pid() {
        return client.pid;
      },
      get lastError() {
        return client.lastError;
      },
      info: () => client.request(ServerInfoRequest),
    },
    runsTree,
    compareView,
    compare,
    confusion,
    live,
    runs,
    sessions,
    diff,
    diffPanels,
    training,
    models,
  };
}

export async function deactivate(): Promise<void> {
  const client = serverClient;
  serverClient = undefined;
  // Stop the server first (it closes the store cleanly), then everything else.
  await client?.stop();
  client?.dispose();
  owned?.dispose();
  owned = undefined;
}
