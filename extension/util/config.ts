import * as vscode from 'vscode';

export const SETTINGS = {
  serverRuntime: 'labbook.server.runtime',
  pythonPath: 'labbook.python.path',
  traceServer: 'labbook.trace.server',
} as const;

export function serverRuntimeSetting(): string {
  return vscode.workspace.getConfiguration().get<string>(SETTINGS.serverRuntime, '').trim();
}
